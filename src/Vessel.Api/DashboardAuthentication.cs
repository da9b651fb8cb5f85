using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Vessel.Api;

/// <summary>
/// How the dashboard authenticates on TCP (issue 7): browsers cannot send the bearer header on page loads, so the page
/// trades the token once (<c>POST /dashboard/session</c>) for an HttpOnly, SameSite=Strict cookie. The cookie holds an
/// HMAC of the token, not the token, and the API honours it only on same-origin requests (Fetch Metadata, or an Origin
/// equal to the host), so other sites and other tools cannot use it. The page and its assets need no auth.
/// </summary>
public sealed class DashboardAuthentication(string token)
{
    public const string CookieName = "vessel_dashboard";

    /// <summary>The cookie value: HMAC-SHA256 keyed by the token, so rotating the token ends every session.</summary>
    public string SessionValue { get; } = Convert.ToHexString(
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(token), "vessel dashboard session"u8)).ToLowerInvariant();

    public bool TokenMatches(string? given) =>
        given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given.Trim()), Encoding.UTF8.GetBytes(token));

    /// <summary>True when the request carries a valid dashboard cookie and comes from the dashboard's own origin.</summary>
    public bool Allows(HttpContext context)
    {
        if (!context.Request.Cookies.TryGetValue(CookieName, out string? value) ||
            !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(value), Encoding.UTF8.GetBytes(SessionValue)))
        {
            return false;
        }

        var headers = context.Request.Headers;
        if (string.Equals(headers["Sec-Fetch-Site"], "same-origin", StringComparison.Ordinal))
        {
            return true;
        }

        string? origin = headers.Origin;
        return origin is not null && string.Equals(origin, $"{context.Request.Scheme}://{context.Request.Host}", StringComparison.OrdinalIgnoreCase);
    }

    public CookieOptions CookieOptions() => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Path = "/",
        MaxAge = TimeSpan.FromDays(30),
    };
}
