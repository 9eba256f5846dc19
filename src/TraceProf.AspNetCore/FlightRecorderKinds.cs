namespace TraceProf.AspNetCore;

/// <summary>Reads <see cref="TraceProfFlightRecorderOptions.Kinds"/>.</summary>
internal static class FlightRecorderKinds
{
    public static bool TryParse(string? value, out bool cpu, out bool contention, out bool allocations, out string bad)
    {
        cpu = contention = allocations = false;
        bad = value ?? "";
        var any = false;
        foreach (var part in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (string.Equals(part, "cpu", StringComparison.OrdinalIgnoreCase))
            {
                cpu = any = true;
            }
            else if (string.Equals(part, "contention", StringComparison.OrdinalIgnoreCase))
            {
                contention = any = true;
            }
            else if (string.Equals(part, "allocations", StringComparison.OrdinalIgnoreCase) || string.Equals(part, "allocs", StringComparison.OrdinalIgnoreCase))
            {
                allocations = any = true;
            }
            else
            {
                bad = part;
                return false;
            }
        }

        return any;
    }
}
