namespace Vessel.Images;

/// <summary>
/// Checks a clearsigned file (an archive's InRelease) with gpgv(1) against one keyring and returns only the text that
/// the signature covers, as apt does: at least one good signature (VALIDSIG) from the keyring and no bad one
/// (BADSIG); signatures by keys not in the keyring (NO_PUBKEY) are ignored.
/// </summary>
internal static class OpenPgpVerifier
{
    public static async Task<string> VerifyClearsignedAsync(string signedFile, string keyring, string describe, CancellationToken cancellationToken)
    {
        if (!File.Exists(keyring))
        {
            throw new GuestKitException(
                $"keyring {keyring} not found, so {describe} cannot be verified; install the Debian package 'debian-archive-keyring' or set {DebianMirror.KeyringVariable}.");
        }

        string output = signedFile + ".verified";
        File.Delete(output);
        try
        {
            var (_, status, error) = await HostTool.RunAsync(
                "gpgv",
                ["--status-fd", "1", "--keyring", keyring, "--output", output, "--", signedFile],
                "gpgv",
                cancellationToken).ConfigureAwait(false);
            string[] lines = status.Split('\n', StringSplitOptions.TrimEntries);
            bool valid = lines.Any(l => l.StartsWith("[GNUPG:] VALIDSIG ", StringComparison.Ordinal));
            bool bad = lines.Any(l => l.StartsWith("[GNUPG:] BADSIG ", StringComparison.Ordinal));
            if (!valid || bad || !File.Exists(output))
            {
                string reason = bad ? "a signature is BAD"
                    : error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no valid signature";
                throw new GuestKitException($"{describe} failed OpenPGP verification against {keyring}: {reason}.");
            }

            return await File.ReadAllTextAsync(output, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(output);
        }
    }
}
