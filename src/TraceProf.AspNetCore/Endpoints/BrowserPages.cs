using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Http;

namespace TraceProf.AspNetCore.Endpoints;

/// <summary>
/// The API's answers for a browser (a request whose <c>Accept</c> names <c>text/html</c>): the pprof index as a page
/// styled like the UI and linking it, and a refusal as the UI's sign-in hint instead of problem+json, since a browser
/// cannot send the role header. The UI's own pages live in Ui/; this folder may not import it, so these pages link the
/// UI's stylesheet and sign-in form by URL.
/// </summary>
internal static class BrowserPages
{
    /// <summary>No script; the UI's stylesheet; no framing, no forms, no base-URL tricks.</summary>
    public const string ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>Whether the caller asked for HTML: a browser's navigation does, curl, go tool pprof and scripts do not.</summary>
    public static bool WantsHtml(HttpRequest request) =>
        request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    public static string Text(string? value) => HtmlEncoder.Default.Encode(value ?? "");

    /// <summary>A page with the UI's header (navigation to the UI and this index) and <paramref name="main"/>.</summary>
    public static string Page(string prefix, string title, string main) =>
        new StringBuilder(4096)
            .Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<meta name=\"referrer\" content=\"no-referrer\"><title>").Append(Text(title)).Append(" · TraceProf</title>")
            .Append("<link rel=\"stylesheet\" href=\"").Append(Text(prefix)).Append("/ui/ui.css\"></head><body>")
            .Append("<header><strong>TraceProf</strong><nav aria-label=\"TraceProf\">")
            .Append("<a href=\"").Append(Text(prefix)).Append("/ui/\">Snapshots</a> · ")
            .Append("<a href=\"").Append(Text(prefix)).Append("/pprof/\">pprof index</a></nav></header>")
            .Append("<main id=\"main\"><h1>").Append(Text(title)).Append("</h1>").Append(main).Append("</main></body></html>")
            .ToString();

    /// <summary>The refusal for a browser: the gate's detail and a link to the UI's sign-in that comes back to the index.</summary>
    public static string Denied(string prefix, string roleHeaderName, int statusCode, string detail)
    {
        var main = new StringBuilder()
            .Append("<p class=\"error\" role=\"alert\">").Append(Text(detail)).Append("</p>")
            .Append("<p>A browser cannot send the <code>").Append(Text(roleHeaderName))
            .Append("</code> header: <a href=\"").Append(Text($"{prefix}/ui/signin?returnUrl={UrlEncoder.Default.Encode(prefix + "/pprof/")}"))
            .Append("\">sign in</a> to pick a role for this browser.</p>");
        return Page(prefix, statusCode == StatusCodes.Status401Unauthorized ? "Sign-in needed" : "Not allowed", main.ToString());
    }

    public static Task WriteAsync(HttpContext context, int statusCode, string html)
    {
        var response = context.Response;
        response.StatusCode = statusCode;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers["Referrer-Policy"] = "no-referrer";
        return response.WriteAsync(html, context.RequestAborted);
    }
}
