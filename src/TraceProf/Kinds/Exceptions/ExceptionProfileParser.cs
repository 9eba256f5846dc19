using System.Runtime.InteropServices;
using TraceProf.Attribution;
using TraceProf.Parsing;
using TraceProf.Profiles;

namespace TraceProf.Kinds.Exceptions;

/// <summary>Feeds an exceptions capture to <see cref="ExceptionProfileBuilder"/> through TraceLog (the reference path).</summary>
internal static class ExceptionProfileParser
{
    public static Profile Parse(TraceLogReader reader, ParseOptions options, SampleAttributor labels, CancellationToken cancellationToken)
    {
        var builder = new ExceptionProfileBuilder(reader.NewBuilder(ExceptionProfileBuilder.SampleTypes, 0), labels, options.ExceptionMessages);
        var stack = new List<int>(64);
        var source = reader.Log.Events.GetSource();
        source.Clr.ExceptionStart += data =>
        {
            if ((builder.Count & 0xFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            reader.ResolveStack(data, builder.Profile, stack);
            builder.Add(CollectionsMarshal.AsSpan(stack), data.ThreadID, data.RawTimestamp(), data.ExceptionType, data.ExceptionMessage);
        };
        source.Process();
        reader.AddUnresolvedComment(builder.Profile);
        return builder.Build();
    }
}
