namespace Vessel.Storage;

/// <summary>Collects a check's findings: counts every corruption but keeps only the first messages (bounded output).</summary>
internal sealed class ImageCheckTally
{
    private const int MaxReportedErrors = 100;
    private readonly List<string> _messages = [];

    public int Corruptions { get; private set; }

    public ulong Allocated { get; set; }

    public ulong Total { get; set; }

    public ulong Compressed { get; set; }

    public void Corruption(string message)
    {
        Corruptions++;
        if (_messages.Count < MaxReportedErrors)
        {
            _messages.Add(message);
        }
    }

    public ImageCheckResult ToResult() => new(Corruptions, 0, _messages, Allocated, Total, Compressed, null);
}
