using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Http;

namespace TraceProf.AspNetCore.Ui;

/// <summary>
/// Builds the UI's HTML. Every value that did not come from a literal in this assembly goes through
/// <see cref="HtmlEncoder"/> (text and attributes) or <see cref="UrlEncoder"/> (URL parts) — see <see cref="Text"/>.
/// </summary>
internal static class UiHtml
{
    /// <summary>
    /// The policy for TraceProf's own pages: no script at all (filters are a plain GET form), styles and images only
    /// from the app itself, forms post only to the app, no framing, no base-URL tricks.
    /// </summary>
    public const string PageContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>
    /// The policy for speedscope's files. Beyond the page policy it needs: <c>script-src 'self'</c> for its bundle;
    /// <c>style-src 'unsafe-inline'</c> because it styles itself at run time by inserting <c>&lt;style&gt;</c> elements
    /// without a nonce (aphrodite) — it renders unstyled and unusable without it, and with no script allowance beyond
    /// 'self' that cannot run an attacker's code; <c>connect-src 'self'</c> to fetch the profile from
    /// <c>#profileURL=</c>; <c>font-src 'self'</c> for its embedded Source Code Pro; <c>'wasm-unsafe-eval'</c> in
    /// script-src because speedscope's bundle compiles a WebAssembly module it carries inline (WebAssembly.instantiate)
    /// as it loads, and without it every open logs a CSP violation; it lets a script that already runs under
    /// script-src 'self' compile WebAssembly, and allows no JavaScript eval. Deliberately absent: 'unsafe-eval'
    /// (speedscope's bundled protobuf probe tries eval and falls back when refused).
    /// </summary>
    public const string SpeedscopeContentSecurityPolicy =
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self'; font-src 'self'; " +
        "form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

    public const string Stylesheet = """
        :root { color-scheme: light dark; --muted: #666; --line: #ccc; --accent: #0b5cad; }
        body { font: 15px/1.45 system-ui, sans-serif; margin: 0; }
        header, main, footer { padding: 0.6rem 1.2rem; }
        header { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; border-bottom: 1px solid var(--line); }
        header .who { margin-left: auto; color: var(--muted); }
        header form { display: inline; }
        h1 { font-size: 1.3rem; margin: 0.4rem 0; }
        a { color: var(--accent); }
        table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
        th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        td.num, th.num { text-align: right; }
        code, .id { font-family: ui-monospace, monospace; font-size: 0.9em; }
        form.filters { display: flex; gap: 0.8rem; flex-wrap: wrap; align-items: end; margin: 0.6rem 0 1rem; }
        form.filters label, form.signin label { display: flex; flex-direction: column; font-size: 0.85rem; }
        form.signin { display: grid; gap: 0.8rem; max-width: 24rem; }
        input, select, button { font: inherit; padding: 0.25rem 0.4rem; }
        input#traceId { width: 21rem; font-family: ui-monospace, monospace; }
        .error { border: 1px solid #c33; padding: 0.5rem 0.8rem; }
        .note { color: var(--muted); }
        .skip { position: absolute; left: -999px; } .skip:focus { left: 0.5rem; top: 0.5rem; }
        table#spans tr.slowest td { background: rgba(255, 170, 0, 0.18); }
        table#spans li.hotspot code { font-weight: bold; }
        table#spans ol.frames { margin: 0; padding-left: 1.1rem; }
        table#spans td.num { white-space: nowrap; }
        .badge { font-size: 0.75rem; padding: 0 0.3rem; border: 1px solid #b70; border-radius: 0.2rem; color: #b70; white-space: nowrap; }
        """;

    public static string Text(string? value) => HtmlEncoder.Default.Encode(value ?? "");

    public static string Url(string value) => UrlEncoder.Default.Encode(value);

    /// <summary>A whole page: the header with navigation and the signed-in role, then <paramref name="main"/>.</summary>
    public static string Page(UiContext ui, string title, string main)
    {
        var html = new StringBuilder(4096);
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<meta name=\"referrer\" content=\"no-referrer\"><title>").Append(Text(title)).Append(" · TraceProf</title>")
            .Append("<link rel=\"stylesheet\" href=\"").Append(Text(ui.UiPath)).Append("/ui.css\"></head><body>")
            .Append("<a class=\"skip\" href=\"#main\">Skip to content</a><header><strong>TraceProf</strong><nav aria-label=\"TraceProf\">")
            .Append("<a href=\"").Append(Text(ui.UiPath)).Append("/\">Snapshots</a> · ")
            .Append("<a href=\"").Append(Text(ui.Prefix)).Append("/pprof/\">pprof index</a></nav>");
        if (ui.Role is not null)
        {
            html.Append("<span class=\"who\">Role <strong>").Append(Text(ui.Role)).Append("</strong> (").Append(Text(ui.Proof)).Append(")</span>");
        }

        if (ui.HasSessionCookie && ui.SignOutToken is not null)
        {
            html.Append("<form method=\"post\" action=\"").Append(Text(ui.UiPath)).Append("/signout\">")
                .Append(Hidden(ui.SignOutToken.Value.FieldName, ui.SignOutToken.Value.Token))
                .Append("<button type=\"submit\">Sign out</button></form>");
        }

        html.Append("</header><main id=\"main\"><h1>").Append(Text(title)).Append("</h1>").Append(main).Append("</main></body></html>");
        return html.ToString();
    }

    public static string Hidden(string name, string? value) =>
        $"<input type=\"hidden\" name=\"{Text(name)}\" value=\"{Text(value)}\">";

    public static string Size(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MB"),
    };

    public static string Duration(TimeSpan duration) =>
        duration.TotalSeconds >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.#} s")
            : string.Create(CultureInfo.InvariantCulture, $"{duration.TotalMilliseconds:0} ms");

    public static Task WriteAsync(HttpContext context, int statusCode, string html)
    {
        var response = context.Response;
        response.StatusCode = statusCode;
        response.ContentType = "text/html; charset=utf-8";
        ApplyPageHeaders(response, PageContentSecurityPolicy);
        return response.WriteAsync(html, context.RequestAborted);
    }

    public static void ApplyPageHeaders(HttpResponse response, string contentSecurityPolicy)
    {
        response.Headers.ContentSecurityPolicy = contentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        // Trace ids sit in UI URLs; they stay on this origin.
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers["Cross-Origin-Opener-Policy"] = "same-origin";
        response.Headers["Cross-Origin-Resource-Policy"] = "same-origin";
    }
}

/// <summary>What a page needs to know about the request: where the UI lives and who is looking.</summary>
internal sealed record UiContext(string Prefix, string? Role, string? Proof, bool HasSessionCookie, (string FieldName, string? Token)? SignOutToken)
{
    public string UiPath => Prefix + "/ui";
}
