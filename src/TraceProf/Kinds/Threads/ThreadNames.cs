using System.Globalization;

namespace TraceProf.Kinds.Threads;

/// <summary>Names of this process's threads by OS thread id.</summary>
internal static class ThreadNames
{
    /// <summary>
    /// The name of a thread of this process, or null. On Linux the runtime passes <c>Thread.Name</c> to the OS
    /// (at most 15 characters), readable from <c>/proc/self/task/&lt;tid&gt;/comm</c>; elsewhere names are unknown.
    /// </summary>
    /// <param name="osThreadId">The OS thread id.</param>
    /// <returns>The name, or null.</returns>
    public static string? OfThisProcess(int osThreadId)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            return File.ReadAllText(string.Create(CultureInfo.InvariantCulture, $"/proc/self/task/{osThreadId}/comm")).TrimEnd('\n');
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
