using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using TraceProf.Parsing.Streaming;

namespace TraceProf.Benchmarks;

/// <summary>
/// What the flight recorder's cut pays to name its stacks, as a function of the method table's size: before issue 17
/// it copied the whole live table (<see cref="LegacyMethodAddressTable.Freeze"/>, then sorted the copy on the first
/// lookup); now it copies only the methods its stacks meet (<see cref="MethodAddressTable.Subset"/>). The cut here is
/// a failed request's: 200 distinct stacks of 30 frames over the 300 methods the request ran (spread over the table).
/// </summary>
[MemoryDiagnoser]
public class RecorderCutBenchmarks
{
    private readonly RawStacks _stacks = new();
    private MethodAddressTable _table = null!;
    private LegacyMethodAddressTable _legacy = null!;

    [Params(5_000, 30_000)]
    public int Methods { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _table = new MethodAddressTable();
        _legacy = new LegacyMethodAddressTable();
        var random = new Random(17);
        for (var i = 0; i < Methods; i++)
        {
            var payload = MethodLoad((ulong)i, 0x7f00_0000_0000UL + ((ulong)i * 0x400), 0x300, $"Method{i}");
            _table.AddMethod(payload);
            _legacy.AddMethod(payload);
        }

        var stack = new ulong[30];
        for (var s = 0; s < 200; s++)
        {
            for (var f = 0; f < stack.Length; f++)
            {
                stack[f] = 0x7f00_0000_0000UL + ((ulong)(random.Next(300) * (Methods / 300)) * 0x400) + 0x10;
            }

            _stacks.Intern(stack);
        }

        // The live table has sorted itself once (a recorder's table is looked up between cuts too).
        _table.TryResolve(0, out _, out _);
        _legacy.TryResolve(0, out _, out _);
    }

    [Benchmark(Baseline = true)]
    public int FreezeWholeTable()
    {
        var frozen = _legacy.Freeze();
        var named = 0;
        for (var i = 0; i < _stacks.Count; i++)
        {
            foreach (var address in _stacks.Get(i))
            {
                named += frozen.TryResolve(address, out _, out _) ? 1 : 0;
            }
        }

        return named;
    }

    [Benchmark]
    public int SubsetOfTheCut()
    {
        var subset = _table.Subset(_stacks);
        var named = 0;
        for (var i = 0; i < _stacks.Count; i++)
        {
            foreach (var address in _stacks.Get(i))
            {
                named += subset.TryResolve(address, out _, out _) ? 1 : 0;
            }
        }

        return named;
    }

    // MethodLoadVerbose: MethodID, ModuleID, start, size, token, flags, then namespace, name, signature (UTF-16, NUL).
    private static byte[] MethodLoad(ulong id, ulong start, uint size, string name)
    {
        var strings = System.Text.Encoding.Unicode.GetBytes("Bench.Type\0" + name + "\0void  ()\0");
        var payload = new byte[36 + strings.Length + 2];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, id);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(8), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(16), start);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(24), size);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(28), 0x0600_0001 + (int)id);
        strings.CopyTo(payload, 36);
        return payload;
    }
}
