namespace Vessel.Images;

/// <summary>Writes a file so it is either absent or complete: temp file in the same folder, fsync, rename.</summary>
internal static class AtomicFile
{
    public static async Task WriteAllTextAsync(string path, string text, CancellationToken cancellationToken)
    {
        string temp = $"{path}.tmp-{Environment.ProcessId}";
        await using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            await using (var writer = new StreamWriter(stream, leaveOpen: true))
            {
                await writer.WriteAsync(text.AsMemory(), cancellationToken).ConfigureAwait(false);
            }

            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }
}
