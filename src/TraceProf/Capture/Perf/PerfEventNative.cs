using System.Runtime.InteropServices;

namespace TraceProf.Capture;

// Hand-written on purpose: no .NET library opens perf_event sampling events in its own process (the perf tool,
// libpfm and bcc are native; dotnet-trace and TraceEvent read EventPipe/ETW only), and shipping a native helper is
// what this design avoids. The layout below is the kernel's uapi <linux/perf_event.h>, PERF_ATTR_SIZE_VER5, and the
// PERF_RECORD_SAMPLE layout PerfEventCpuSampler reads is that header's too (a system call's record format: the fields
// present follow the sample_type bits in the kernel's order, registers in the order of their mask bits).

/// <summary>The kernel's perf_event interface, reached through libc: <c>syscall</c>, <c>mmap</c>, <c>ioctl</c>, <c>poll</c>.</summary>
internal static class PerfEventNative
{
    public const uint TypeSoftware = 1;          // PERF_TYPE_SOFTWARE
    public const ulong CountSwCpuClock = 0;       // PERF_COUNT_SW_CPU_CLOCK
    public const ulong SampleIp = 1 << 0;
    public const ulong SampleTid = 1 << 1;
    public const ulong SampleTime = 1 << 2;
    public const ulong SampleCallchain = 1 << 5;
    public const ulong SampleRegsUser = 1 << 12;
    public const ulong SampleStackUser = 1 << 13;

    // PERF_SAMPLE_REGS_USER: the registers asked for, written in the order of their bits in the mask. On both machines
    // the three are (frame pointer, stack pointer, instruction pointer), in that order: x86-64 BP 6, SP 7, IP 8
    // (arch/x86/include/uapi/asm/perf_regs.h); arm64 x29 29, lr 30, sp 31, pc 32 (arch/arm64/include/uapi/asm/perf_regs.h),
    // where the link register is the fourth (a frameless leaf's caller is still in it).
    public const ulong RegsMaskX64 = (1UL << 6) | (1UL << 7) | (1UL << 8);
    public const ulong RegsMaskArm64 = (1UL << 29) | (1UL << 30) | (1UL << 31) | (1UL << 32);
    public const ulong RegsAbiNone = 0;          // PERF_SAMPLE_REGS_ABI_NONE: no registers (the record has only the abi word)

    /// <summary>
    /// Bytes of the user stack copied from the stack pointer up with each sample (PERF_SAMPLE_STACK_USER; a multiple
    /// of 8). A native leaf without a frame pointer (libm's sin, the runtime's write barriers) has its return address
    /// within its own few spills of the stack pointer; 512 bytes covered every one the tests and the sample measured.
    /// </summary>
    public const uint StackDumpBytes = 512;

    // perf_event_attr flag bits (the bit-field word at offset 40).
    public const ulong FlagDisabled = 1UL << 0;
    public const ulong FlagExcludeKernel = 1UL << 5;
    public const ulong FlagExcludeHv = 1UL << 6;
    public const ulong FlagWatermark = 1UL << 14;
    public const ulong FlagExcludeCallchainKernel = 1UL << 21;
    public const ulong FlagUseClockId = 1UL << 25;

    public const int ClockMonotonic = 1;
    public const ulong FlagFdCloexec = 8;        // PERF_FLAG_FD_CLOEXEC
    public const ulong IocEnable = 0x2400;       // PERF_EVENT_IOC_ENABLE
    public const ulong IocDisable = 0x2401;      // PERF_EVENT_IOC_DISABLE

    public const uint RecordLost = 2;            // PERF_RECORD_LOST
    public const uint RecordSample = 9;          // PERF_RECORD_SAMPLE

    // perf_event_mmap_page: where the kernel writes (head) and we acknowledge (tail), in the first page.
    public const int DataHeadOffset = 1024;
    public const int DataTailOffset = 1032;

    /// <summary>No code is mapped in the first page: an entry below this is a frame-pointer walk gone astray, and is left out.</summary>
    public const ulong FirstCodeAddress = 4096;

    /// <summary>
    /// No user-space address reaches this (x86-64 with 5-level paging ends user space below 2^56, arm64 at 2^52): an
    /// entry at or above it is not code, and is left out — the kernel's context markers too (PERF_CONTEXT_USER,
    /// _KERNEL, …: entries at or above (u64)-4095).
    /// </summary>
    public const ulong UserAddressLimit = 1UL << 56;

    /// <summary>
    /// Our own marker in a delivered stack, in the context-marker range (the kernel's are -32 … -2560): <c>marker + n</c>
    /// right after the leaf says the next n words (1 … <see cref="MaxCallerCandidates"/>) are return addresses into
    /// possibly managed code found on the stack of a native leaf; the method table decides when the stack is named.
    /// </summary>
    public const ulong CallerCandidatesMarker = unchecked((ulong)-4000L);

    /// <summary>The most caller candidates one sample carries.</summary>
    public const int MaxCallerCandidates = 2;

    public const int ProtRead = 1;
    public const int ProtWrite = 2;
    public const int MapShared = 1;
    public const short PollIn = 0x1;
    public const short PollHup = 0x10;
    public const short PollErr = 0x8;
    public const short PollNval = 0x20;

    public const int Eperm = 1;
    public const int Esrch = 3;
    public const int Eacces = 13;
    public const int Enoent = 2;
    public const int Emfile = 24;
    public const int Enosys = 38;

    /// <summary>The <c>perf_event_open</c> system call number of this machine, or -1 where it is not known.</summary>
    public static long SyscallNumber => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 298,
        Architecture.Arm64 => 241,
        _ => -1,
    };

    /// <summary>The registers each sample carries on this machine (frame pointer, stack pointer, instruction pointer; arm64 also the link register), or 0 where unknown.</summary>
    public static ulong RegsMask => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => RegsMaskX64,
        Architecture.Arm64 => RegsMaskArm64,
        _ => 0,
    };

    /// <summary>perf_event_attr, PERF_ATTR_SIZE_VER5 (112 bytes; use_clockid since Linux 4.1).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 112)]
    public struct PerfEventAttr
    {
        [FieldOffset(0)] public uint Type;
        [FieldOffset(4)] public uint Size;
        [FieldOffset(8)] public ulong Config;
        [FieldOffset(16)] public ulong SamplePeriod;
        [FieldOffset(24)] public ulong SampleType;
        [FieldOffset(32)] public ulong ReadFormat;
        [FieldOffset(40)] public ulong Flags;
        [FieldOffset(48)] public uint WakeupWatermark;
        [FieldOffset(80)] public ulong SampleRegsUser;
        [FieldOffset(88)] public uint SampleStackUser;
        [FieldOffset(92)] public int ClockId;
        [FieldOffset(108)] public ushort SampleMaxStack;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern long PerfEventOpen(long number, ref PerfEventAttr attr, nint pid, nint cpu, nint groupFd, nuint flags);

    [DllImport("libc", EntryPoint = "mmap", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [DllImport("libc", EntryPoint = "munmap", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int Munmap(nint address, nuint length);

    [DllImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int Ioctl(int fd, nuint request, nint argument);

    [DllImport("libc", EntryPoint = "poll", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int Poll([In, Out] PollFd[] fds, nuint count, int timeoutMs);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int Close(int fd);

    /// <summary>The attributes of one thread's CPU-clock sampling event.</summary>
    /// <param name="periodNs">CPU time between samples, in nanoseconds.</param>
    /// <param name="wakeupBytes">Ring bytes after which <c>poll</c> wakes the drain thread.</param>
    public static PerfEventAttr CpuClockAttr(ulong periodNs, uint wakeupBytes) => new()
    {
        Type = TypeSoftware,
        Size = 112,
        Config = CountSwCpuClock,
        SamplePeriod = periodNs,
        SampleType = SampleIp | SampleTid | SampleTime | SampleCallchain | (RegsMask != 0 ? SampleRegsUser | SampleStackUser : 0),
        SampleRegsUser = RegsMask,
        SampleStackUser = RegsMask != 0 ? StackDumpBytes : 0,
        Flags = FlagExcludeKernel | FlagExcludeHv | FlagExcludeCallchainKernel | FlagUseClockId | FlagWatermark,
        WakeupWatermark = wakeupBytes,
        ClockId = ClockMonotonic,

        // 0: the kernel's kernel.perf_event_max_stack (127 by default); a larger value fails with EOVERFLOW.
        SampleMaxStack = 0,
    };
}
