using System.Runtime.InteropServices;

namespace TraceProf.Attribution;

/// <summary>
/// The OS id of the current thread — the id EventPipe writes on every event — cached per thread.
/// </summary>
internal static partial class OsThreadId
{
    [ThreadStatic]
    private static int t_id;

    /// <summary>Gets the current thread's OS id, or 0 where it cannot be read.</summary>
    public static int Current
    {
        get
        {
            var id = t_id;
            if (id == 0)
            {
                id = Read();
                t_id = id;
            }

            return id;
        }
    }

    private static int Read()
    {
        try
        {
            if (OperatingSystem.IsLinux())
            {
                return NativeMethods.gettid();
            }

            if (OperatingSystem.IsWindows())
            {
                return (int)NativeMethods.GetCurrentThreadId();
            }
        }
        catch (EntryPointNotFoundException)
        {
        }
        catch (DllNotFoundException)
        {
        }

        return -1;
    }

    private static class NativeMethods
    {
        // glibc ≥ 2.30 exports gettid(); it returns the same id as EventPipe's ThreadID on Linux.
        [DllImport("libc", EntryPoint = "gettid")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
#pragma warning disable SA1300, IDE1006 // The C name.
        public static extern int gettid();
#pragma warning restore SA1300, IDE1006

        [DllImport("kernel32", EntryPoint = "GetCurrentThreadId")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
        public static extern uint GetCurrentThreadId();
    }
}
