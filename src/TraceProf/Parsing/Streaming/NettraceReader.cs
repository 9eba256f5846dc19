using System.Buffers.Binary;

namespace TraceProf.Parsing.Streaming;

/// <summary>
/// Reads a <c>.nettrace</c> file (the EventPipe format written by .NET 5 and later: trace object version 4,
/// blocks version 2, compressed event headers) in one forward pass and hands its metadata, stacks and events
/// to a <see cref="NettraceHandler"/>. Written from the published format description; it decodes only what a
/// profile needs and keeps one block in memory at a time.
/// </summary>
/// <remarks>
/// TraceEvent 3.2.8 parses the same blocks but keeps event stacks internal (its <c>StackCache</c> and the
/// stack fields of <c>EventPipeEventHeader</c> are not public); only <c>TraceLog</c> exposes them, which is the
/// slow path this reader replaces.
/// </remarks>
internal sealed class NettraceReader
{
    private const byte NullReferenceTag = 1;
    private const byte BeginPrivateObjectTag = 5;
    private const byte EndObjectTag = 6;

    // The runtime flushes a block every ~100 KB; a size far past that is damage, and is refused before anything is
    // allocated for it (a garbled length must not make the reader ask for gigabytes).
    internal const int MaxBlockBytes = 16 * 1024 * 1024;

    private readonly Stream _stream;
    private readonly string _displayName;
    private byte[] _buffer = new byte[64 * 1024];
    private long _position;

    public NettraceReader(Stream stream, string displayName)
    {
        _stream = stream;
        _displayName = displayName;
    }

    /// <summary>Gets the header of the trace (known after the first object).</summary>
    public NettraceHeader Header { get; private set; }

    /// <summary>
    /// Reads a capture file from start to end into <paramref name="handler"/>: the one way the streaming parsers open
    /// a file. A length or offset that points outside its block (a damaged file), or no file at all, is an
    /// <see cref="InvalidDataException"/> naming the file, as the TraceLog path reports both.
    /// </summary>
    /// <param name="nettracePath">The capture.</param>
    /// <param name="handler">What receives the decoded objects.</param>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <returns>The trace's header.</returns>
    /// <exception cref="InvalidDataException">The file is not a readable nettrace capture.</exception>
    /// <exception cref="NotSupportedException">A nettrace version this reader does not decode.</exception>
    public static NettraceHeader ReadFile(string nettracePath, NettraceHandler handler, CancellationToken cancellationToken)
    {
        try
        {
            using var stream = new FileStream(nettracePath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
            var reader = new NettraceReader(stream, Path.GetFileName(nettracePath));
            reader.Read(handler, cancellationToken);
            return reader.Header;
        }
        catch (Exception ex) when (ex is ArgumentOutOfRangeException or IndexOutOfRangeException or IOException)
        {
            throw new InvalidDataException($"'{Path.GetFileName(nettracePath)}' is not a readable nettrace capture: {ex.Message}", ex);
        }
    }

    /// <summary>Reads the whole stream.</summary>
    /// <exception cref="InvalidDataException">The stream is not a nettrace capture, or is damaged.</exception>
    /// <exception cref="NotSupportedException">A nettrace version this reader does not decode.</exception>
    public void Read(NettraceHandler handler, CancellationToken cancellationToken)
    {
        Span<byte> magic = stackalloc byte[8];
        if (!TryFill(magic) || !magic.SequenceEqual("Nettrace"u8))
        {
            throw Invalid("it does not start with 'Nettrace'");
        }

        var serializer = ReadLengthPrefixedAscii();
        if (serializer != "!FastSerialization.1")
        {
            throw new NotSupportedException($"'{_displayName}': serialization '{serializer}' is not supported.");
        }

        var sawTrace = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var tag = ReadByte(allowEnd: sawTrace);
            if (tag == -1 || tag == NullReferenceTag)
            {
                break;
            }

            Expect(tag, BeginPrivateObjectTag);
            var (name, version) = ReadTypeDescriptor();
            if (!sawTrace)
            {
                if (name != "Trace")
                {
                    throw Invalid($"the first object is '{name}', not 'Trace'");
                }

                if (version != 4)
                {
                    throw new NotSupportedException($"'{_displayName}': nettrace trace object version {version} is not supported.");
                }

                Header = ReadTraceHeader();
                handler.OnTrace(Header);
                sawTrace = true;
            }
            else
            {
                var block = ReadBlock();
                try
                {
                    switch (name)
                    {
                        case "EventBlock":
                            RequireBlockVersion(name, version);
                            ReadEvents(block, handler, isMetadata: false);
                            break;
                        case "MetadataBlock":
                            RequireBlockVersion(name, version);
                            ReadEvents(block, handler, isMetadata: true);
                            break;
                        case "StackBlock":
                            RequireBlockVersion(name, version);
                            ReadStacks(block, handler);
                            break;
                        case "SPBlock":
                            handler.OnSequencePoint();
                            break;
                        default:
                            // Unknown block kinds are skipped: the format lets readers ignore what they do not know.
                            break;
                    }
                }
                catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException)
                {
                    // A length or offset inside the block that points outside it: the bytes are damaged.
                    throw new InvalidDataException($"'{_displayName}' is not a readable nettrace capture: a {name} ending at offset {_position} is damaged ({ex.Message})", ex);
                }
            }

            Expect(ReadByte(allowEnd: false), EndObjectTag);
        }

        if (!sawTrace)
        {
            throw Invalid("it holds no trace object");
        }
    }

    private static void ReadStacks(ReadOnlySpan<byte> block, NettraceHandler handler)
    {
        var firstId = BinaryPrimitives.ReadInt32LittleEndian(block);
        var count = BinaryPrimitives.ReadInt32LittleEndian(block[4..]);
        var offset = 8;
        for (var i = 0; i < count; i++)
        {
            var size = BinaryPrimitives.ReadInt32LittleEndian(block[offset..]);
            offset += 4;
            if (size < 0 || size > block.Length - offset)
            {
                throw new ArgumentOutOfRangeException(nameof(block), $"stack {firstId + i} claims {size} bytes, {block.Length - offset} are left");
            }

            handler.OnStack(firstId + i, block.Slice(offset, size));
            offset += size;
        }
    }

    private void ReadEvents(ReadOnlySpan<byte> block, NettraceHandler handler, bool isMetadata)
    {
        var headerSize = BinaryPrimitives.ReadUInt16LittleEndian(block);
        var flags = BinaryPrimitives.ReadUInt16LittleEndian(block[2..]);
        if ((flags & 1) == 0)
        {
            throw new NotSupportedException($"'{_displayName}': uncompressed event headers (nettrace before .NET 5) are not supported.");
        }

        // Header fields not flagged in an event repeat the previous event's; the state starts over in every block.
        var header = default(NettraceEvent);
        var position = (int)headerSize;
        while (position < block.Length)
        {
            var eventFlags = block[position++];
            if ((eventFlags & 0x01) != 0)
            {
                header.MetadataId = (int)ReadVarUInt32(block, ref position);
            }

            if ((eventFlags & 0x02) != 0)
            {
                ReadVarUInt32(block, ref position); // sequence number delta
                ReadVarUInt64(block, ref position); // capture thread
                ReadVarUInt32(block, ref position); // processor number
            }

            if ((eventFlags & 0x04) != 0)
            {
                header.ThreadId = (long)ReadVarUInt64(block, ref position);
            }

            if ((eventFlags & 0x08) != 0)
            {
                header.StackId = (int)ReadVarUInt32(block, ref position);
            }

            header.Timestamp += (long)ReadVarUInt64(block, ref position);
            if ((eventFlags & 0x10) != 0)
            {
                position += 16; // activity id
            }

            if ((eventFlags & 0x20) != 0)
            {
                position += 16; // related activity id
            }

            if ((eventFlags & 0x80) != 0)
            {
                header.PayloadSize = (int)ReadVarUInt32(block, ref position);
            }

            if (header.PayloadSize < 0 || header.PayloadSize > block.Length - position)
            {
                throw new ArgumentOutOfRangeException(nameof(block), $"an event claims {header.PayloadSize} payload bytes, {block.Length - position} are left");
            }

            var payload = block.Slice(position, header.PayloadSize);
            position += header.PayloadSize;
            if (isMetadata)
            {
                handler.OnMetadata(NettraceMetadata.Parse(payload));
            }
            else
            {
                handler.OnEvent(in header, payload);
            }
        }
    }

    private static uint ReadVarUInt32(ReadOnlySpan<byte> data, ref int position)
    {
        uint value = 0;
        var shift = 0;
        byte b;
        do
        {
            b = data[position++];
            value |= (uint)(b & 0x7F) << shift;
            shift += 7;
        }
        while ((b & 0x80) != 0 && shift < 35);
        return value;
    }

    private static ulong ReadVarUInt64(ReadOnlySpan<byte> data, ref int position)
    {
        ulong value = 0;
        var shift = 0;
        byte b;
        do
        {
            b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            shift += 7;
        }
        while ((b & 0x80) != 0 && shift < 70);
        return value;
    }

    private void RequireBlockVersion(string name, int version)
    {
        if (version != 2)
        {
            throw new NotSupportedException($"'{_displayName}': {name} version {version} is not supported.");
        }
    }

    private (string Name, int Version) ReadTypeDescriptor()
    {
        Expect(ReadByte(allowEnd: false), BeginPrivateObjectTag);
        Expect(ReadByte(allowEnd: false), NullReferenceTag);
        Span<byte> numbers = stackalloc byte[8];
        Fill(numbers);
        var version = BinaryPrimitives.ReadInt32LittleEndian(numbers);
        var name = ReadLengthPrefixedAscii();
        Expect(ReadByte(allowEnd: false), EndObjectTag);
        return (name, version);
    }

    private NettraceHeader ReadTraceHeader()
    {
        Span<byte> data = stackalloc byte[48];
        Fill(data);

        // SYSTEMTIME (UTC): year, month, day of week, day, hour, minute, second, millisecond as 16-bit values.
        DateTimeOffset syncTime;
        try
        {
            syncTime = new DateTimeOffset(
                BinaryPrimitives.ReadUInt16LittleEndian(data),
                BinaryPrimitives.ReadUInt16LittleEndian(data[2..]),
                BinaryPrimitives.ReadUInt16LittleEndian(data[6..]),
                BinaryPrimitives.ReadUInt16LittleEndian(data[8..]),
                BinaryPrimitives.ReadUInt16LittleEndian(data[10..]),
                BinaryPrimitives.ReadUInt16LittleEndian(data[12..]),
                BinaryPrimitives.ReadUInt16LittleEndian(data[14..]),
                TimeSpan.Zero);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new InvalidDataException($"'{_displayName}' has an invalid trace start time.", ex);
        }

        return new NettraceHeader(
            syncTime,
            BinaryPrimitives.ReadInt64LittleEndian(data[16..]),
            BinaryPrimitives.ReadInt64LittleEndian(data[24..]),
            BinaryPrimitives.ReadInt32LittleEndian(data[32..]),
            BinaryPrimitives.ReadInt32LittleEndian(data[36..]));
    }

    private ReadOnlySpan<byte> ReadBlock()
    {
        Span<byte> sizeBytes = stackalloc byte[4];
        Fill(sizeBytes);
        var size = BinaryPrimitives.ReadInt32LittleEndian(sizeBytes);
        if (size < 0)
        {
            throw Invalid("a block has a negative size");
        }

        if (size > MaxBlockBytes)
        {
            throw Invalid($"a block claims {size} bytes, more than the {MaxBlockBytes} any runtime writes");
        }

        // Block contents start 4-byte aligned, counted from the start of the stream.
        var padding = (int)((4 - (_position & 3)) & 3);
        if (padding > 0)
        {
            Fill(sizeBytes[..padding]);
        }

        if (_buffer.Length < size)
        {
            _buffer = new byte[Math.Max(size, _buffer.Length * 2)];
        }

        var block = _buffer.AsSpan(0, size);
        Fill(block);
        return block;
    }

    private string ReadLengthPrefixedAscii()
    {
        Span<byte> lengthBytes = stackalloc byte[4];
        Fill(lengthBytes);
        var length = BinaryPrimitives.ReadInt32LittleEndian(lengthBytes);
        if (length is < 0 or > 256)
        {
            throw Invalid("a type name has an invalid length");
        }

        Span<byte> name = stackalloc byte[length];
        Fill(name);
        return System.Text.Encoding.ASCII.GetString(name);
    }

    private int ReadByte(bool allowEnd)
    {
        var b = _stream.ReadByte();
        if (b < 0)
        {
            return allowEnd ? -1 : throw Invalid("it ends in the middle of an object");
        }

        _position++;
        return b;
    }

    private void Expect(int actual, byte expected)
    {
        if (actual != expected)
        {
            throw Invalid($"expected tag {expected} at offset {_position - 1}, found {actual}");
        }
    }

    private bool TryFill(Span<byte> destination)
    {
        var read = _stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        _position += read;
        return read == destination.Length;
    }

    private void Fill(Span<byte> destination)
    {
        if (!TryFill(destination))
        {
            throw Invalid("it ends in the middle of an object");
        }
    }

    private InvalidDataException Invalid(string why) => new($"'{_displayName}' is not a readable nettrace capture: {why}.");
}
