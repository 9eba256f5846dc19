using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using ShopDemo;

var builder = WebApplication.CreateBuilder(args);

// The one line that enables TraceProf. (ShopDemo:TraceProf=false leaves it out: the load script's baseline.)
if (builder.Configuration.GetValue("ShopDemo:TraceProf", true))
{
    builder.Services.AddTraceProf();
}

// One program, two services: the shop (default) and, with ShopDemo:Role=inventory, the inventory API it calls.
var role = builder.Configuration["ShopDemo:Role"] ?? "shop";
var inventoryUrl = builder.Configuration["ShopDemo:InventoryUrl"];

builder.Services.AddOpenTelemetry()
    .ConfigureResource(resource => resource.AddService(role))
    .WithTracing(tracing =>
    {
        tracing.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation();

        // --ShopDemo:TracesPerSecond=5 samples about five root traces per second (TraceProf's adaptive sampler;
        // its probability and rates appear in /debug/pprof/ as tracing.adaptiveSampler).
        if (double.TryParse(builder.Configuration["ShopDemo:TracesPerSecond"], System.Globalization.CultureInfo.InvariantCulture, out var tracesPerSecond))
        {
            tracing.AddTraceProfAdaptiveSampling(o => o.TargetTracesPerSecond = tracesPerSecond);
        }

        // Export only when a collector is configured; the demo runs stand-alone otherwise.
        if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            tracing.AddOtlpExporter();
        }
    });

builder.Services.AddSingleton<Catalog>();
builder.Services.AddSingleton<PricingEngine>();
builder.Services.AddSingleton<PaymentGateway>();
builder.Services.AddSingleton<Inventory>();
if (inventoryUrl is { Length: > 0 })
{
    // W3C trace context flows to the inventory service on every call (HttpClient adds traceparent).
    builder.Services.AddHttpClient<IStockReservations, RemoteInventory>(client => client.BaseAddress = new Uri(inventoryUrl));
}
else
{
    builder.Services.AddSingleton<IStockReservations, LocalInventory>();
}

if (role == "shop")
{
    builder.Services.AddHttpClient<ShopperSimulator>();
    builder.Services.AddHostedService(sp => sp.GetRequiredService<ShopperSimulator>());
}

builder.Services.AddProblemDetails();

var app = builder.Build();

// Failures answer with problem details (and, below, the trace id), never with a bare 500.
app.UseExceptionHandler();

// Hand the trace id back to the caller, so a failed request can be looked up by it.
app.Use((context, next) =>
{
    context.Response.OnStarting(() =>
    {
        if (System.Diagnostics.Activity.Current is { } activity)
        {
            context.Response.Headers["traceparent"] = activity.Id;
        }

        return Task.CompletedTask;
    });
    return next(context);
});

if (role == "inventory")
{
    app.MapGet("/", () => Results.Text("ShopDemo inventory: POST /inventory/reserve?items=N (more than 45 items fails). TraceProf: /debug/pprof/\n"));
    app.MapPost("/inventory/reserve", (int? items, Catalog catalog, Inventory inventory) =>
    {
        var count = Math.Clamp(items ?? 5, 1, 500);
        return Results.Ok(new { ledger = inventory.ReserveAndReconcile(catalog.All.Take(count).ToArray()) });
    });
    app.Run();
    return;
}

app.MapGet("/", () => Results.Text("ShopDemo: GET /products, GET /orders/quote?items=N, POST /orders?items=N. TraceProf: /debug/pprof/\n"));
if (builder.Configuration.GetValue("ShopDemo:Troublemakers", true))
{
    Troublemakers.Map(app); // DEMO ONLY: /trouble/leak, /trouble/sync-over-async, /trouble/throw, /trouble/pileup (see Troublemakers.cs)
}

app.MapGet("/products", (Catalog catalog) => catalog.All);
app.MapGet("/products/{sku}/stock", (string sku, Catalog catalog) =>
    catalog.TryGet(sku, out var product) ? Results.Ok(new { sku, product.Stock }) : Results.NotFound());
app.MapGet("/orders/quote", (int? items, PricingEngine pricing) =>
{
    var count = Math.Clamp(items ?? 20, 1, 500);
    return Results.Ok(pricing.Quote(count));
});
app.MapPost("/orders", async (int? items, Catalog catalog, PricingEngine pricing, IStockReservations stock, PaymentGateway payments, CancellationToken cancellationToken) =>
{
    var count = Math.Clamp(items ?? 5, 1, 500);
    var quote = pricing.Quote(count);
    await stock.ReserveAsync(catalog.All.Take(count).ToArray(), cancellationToken);
    var receipt = await payments.ChargeAsync(quote.Total, cancellationToken);
    return Results.Created($"/orders/{receipt.OrderId}", new { receipt.OrderId, quote.Total, receipt.Status });
});

app.Run();
