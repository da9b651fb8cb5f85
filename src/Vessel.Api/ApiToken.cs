using System.Security.Cryptography;
using System.Text;
using Vessel.Hosting;

namespace Vessel.Api;

/// <summary>The bearer token TCP clients must present (DESIGN.md §6): made on first start, kept 0600 in the state dir.</summary>
public static class ApiToken
{
    public const string FileName = "api-token";

    public static string LoadOrCreate(string stateDirectory)
    {
        string path = Path.Combine(stateDirectory, FileName);
        if (File.Exists(path))
        {
            string existing = File.ReadAllText(path).Trim();
            if (existing.Length >= 32)
            {
                OwnerOnlyFile.Restrict(path);
                return existing;
            }
        }

        string token = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();
        string temp = path + ".tmp";
        File.WriteAllText(temp, string.Empty);
        OwnerOnlyFile.Restrict(temp); // restrict before the secret is written
        File.WriteAllText(temp, token + "\n");
        File.Move(temp, path, overwrite: true);
        return token;
    }

    public static bool Matches(string expected, string? authorization)
    {
        const string Scheme = "Bearer ";
        if (authorization is null || !authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        byte[] given = Encoding.UTF8.GetBytes(authorization[Scheme.Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(expected));
    }
}
