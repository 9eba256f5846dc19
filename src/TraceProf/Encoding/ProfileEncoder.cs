using TraceProf.Profiles;

namespace TraceProf.Encoding;

/// <summary>Writes a <see cref="Profile"/> in any <see cref="ProfileFormat"/> that is an encoding of a profile.</summary>
public static class ProfileEncoder
{
    /// <summary>Writes the profile.</summary>
    /// <param name="profile">The profile.</param>
    /// <param name="format">Pprof, Speedscope or Folded.</param>
    /// <param name="destination">Where to write (left open).</param>
    /// <param name="name">A name for formats that show one (speedscope).</param>
    /// <exception cref="ArgumentException"><paramref name="format"/> is Nettrace, which is the raw capture, not an encoding.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="format"/> is not a defined value.</exception>
    public static void Write(Profile profile, ProfileFormat format, Stream destination, string name)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(destination);
        switch (format)
        {
            case ProfileFormat.Pprof:
                PprofEncoder.Write(profile, destination);
                break;
            case ProfileFormat.Speedscope:
                SpeedscopeEncoder.Write(profile, destination, name);
                break;
            case ProfileFormat.Folded:
                FoldedEncoder.Write(profile, destination);
                break;
            case ProfileFormat.Nettrace:
                throw new ArgumentException("nettrace is the raw capture, not an encoding of a profile; serve the stored capture instead.", nameof(format));
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, null);
        }
    }
}
