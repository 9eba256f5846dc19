using Microsoft.Extensions.DependencyInjection;

namespace TraceProf.AspNetCore.Ui;

/// <summary>Registers the browser UI's services; called by <c>AddTraceProf</c>.</summary>
internal static class UiServiceCollectionExtensions
{
    public static IServiceCollection AddTraceProfUi(this IServiceCollection services)
    {
        // Data Protection seals the session cookie; antiforgery protects sign-in and sign-out. Both are in the shared
        // framework and both registrations keep whatever the host configured (key ring location, cookie names).
        services.AddDataProtection();
        services.AddAntiforgery();
        services.AddSingleton<UiSessionCookie>();
        services.AddSingleton<SpeedscopeAssets>();
        services.AddSingleton<UiEndpoints>();
        return services;
    }
}
