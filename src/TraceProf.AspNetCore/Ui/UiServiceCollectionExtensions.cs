using Microsoft.Extensions.DependencyInjection;

namespace TraceProf.AspNetCore.Ui;

/// <summary>Registers the browser UI's services; called by <c>AddTraceProf</c>.</summary>
internal static class UiServiceCollectionExtensions
{
    public static IServiceCollection AddTraceProfUi(this IServiceCollection services)
    {
        // Antiforgery protects sign-in and sign-out; it is in the shared framework and keeps whatever the host
        // configured (cookie names). The session cookie itself is the gate's (Security/UiSessionCookie).
        services.AddAntiforgery();
        services.AddSingleton<SpeedscopeAssets>();
        services.AddSingleton<UiEndpoints>();
        return services;
    }
}
