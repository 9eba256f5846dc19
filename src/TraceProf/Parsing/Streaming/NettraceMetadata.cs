using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace TraceProf.Parsing.Streaming;

/// <summary>The part of an event type's description a profile needs: who raises it and its id.</summary>
/// <param name="MetadataId">The id events refer to.</param>
/// <param name="ProviderName">The provider, e.g. <c>Microsoft-Windows-DotNETRuntime</c>.</param>
/// <param name="EventId">The event's id within its provider.</param>
/// <param name="Version">The event's version.</param>
internal readonly record struct NettraceMetadata(int MetadataId, string ProviderName, int EventId, int Version)
{
    /// <summary>Decodes the start of a metadata event's payload.</summary>
    public static NettraceMetadata Parse(ReadOnlySpan<byte> payload)
    {
        var metadataId = BinaryPrimitives.ReadInt32LittleEndian(payload);
        var offset = 4;
        var provider = NettracePayload.ReadUtf16(payload, ref offset);
        var eventId = BinaryPrimitives.ReadInt32LittleEndian(payload[offset..]);
        offset += 4;
        _ = NettracePayload.ReadUtf16(payload, ref offset); // event name, often empty for runtime events
        offset += 8; // keywords
        var version = BinaryPrimitives.ReadInt32LittleEndian(payload[offset..]);
        return new NettraceMetadata(metadataId, provider, eventId, version);
    }
}

/// <summary>Reads fields of event payloads.</summary>
internal static class NettracePayload
{
    /// <summary>Reads a NUL-terminated UTF-16 string and moves past its terminator.</summary>
    public static string ReadUtf16(ReadOnlySpan<byte> payload, ref int offset)
    {
        var rest = payload[offset..];
        var chars = MemoryMarshal.Cast<byte, char>(rest[..(rest.Length & ~1)]);
        var length = chars.IndexOf('\0');
        if (length < 0)
        {
            throw new InvalidDataException("A string in an event payload has no terminator.");
        }

        offset += (length + 1) * 2;
        return length == 0 ? string.Empty : new string(chars[..length]);
    }
}
