using System.ComponentModel.DataAnnotations;

namespace TraceProf.AspNetCore;

/// <summary>Where and for how long snapshots are kept (the embedded SQLite store plus files).</summary>
public sealed class TraceProfStorageOptions
{
    /// <summary>Default value of <see cref="MaxCount"/>.</summary>
    public const int DefaultMaxCount = 1000;

    /// <summary>Default value of <see cref="MaxAgeHours"/>.</summary>
    public const int DefaultMaxAgeHours = 7 * 24;

    /// <summary>Default value of <see cref="MaxTotalMegabytes"/>.</summary>
    public const int DefaultMaxTotalMegabytes = 1024;

    /// <summary>
    /// Gets or sets where snapshots are kept: <c>Sqlite</c> (embedded, zero set-up: a file and a folder on this
    /// machine) or <c>PostgreSql</c> (a shared database every service of a system writes to, so one trace id
    /// finds every service's snapshots). Default value: <c>Sqlite</c>.
    /// </summary>
    public string Provider { get; set; } = "Sqlite";

    /// <summary>
    /// Gets or sets the Npgsql connection string when <see cref="Provider"/> is <c>PostgreSql</c>. Default value:
    /// <see langword="null"/>.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Reads <see cref="Provider"/> (any letter case); false for anything but the names of <see cref="StorageProvider"/>.</summary>
    internal bool TryGetProvider(out StorageProvider provider)
    {
        // Not Enum.TryParse: it also takes numbers and comma lists, which are not settings anyone means.
        foreach (var candidate in Enum.GetValues<StorageProvider>())
        {
            if (string.Equals(Provider, candidate.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                provider = candidate;
                return true;
            }
        }

        provider = default;
        return false;
    }

    /// <summary>
    /// Gets or sets the folder for the SQLite database and the profile files, and for captures in progress with
    /// either provider. Default value: <see langword="null"/>, meaning
    /// <c>&lt;temp&gt;/traceprof/&lt;application name&gt;</c>, which is writable even in a read-only container.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>Gets or sets how many snapshots are kept at most; the oldest go first. Default value: 1000. Range: 1 to 100,000.</summary>
    [Range(1, 100_000)]
    public int MaxCount { get; set; } = DefaultMaxCount;

    /// <summary>Gets or sets how old a snapshot may get, in hours. Default value: 168 (7 days). Range: 1 to 87,600.</summary>
    [Range(1, 87_600)]
    public int MaxAgeHours { get; set; } = DefaultMaxAgeHours;

    /// <summary>Gets or sets how many megabytes all snapshot files may take together. Default value: 1024. Range: 1 to 1,048,576.</summary>
    [Range(1, 1_048_576)]
    public int MaxTotalMegabytes { get; set; } = DefaultMaxTotalMegabytes;
}
