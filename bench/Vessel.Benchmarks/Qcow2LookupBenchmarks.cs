using BenchmarkDotNet.Attributes;
using Vessel.Storage.Qcow2;

namespace Vessel.Benchmarks;

/// <summary>
/// qcow2 guest-offset translation (qcow2 spec "Cluster mapping": L1 -> L2 -> host cluster) through
/// <see cref="Qcow2Image.Read"/>: on an unallocated cluster the read is the lookup alone (zeroes, no host I/O); on
/// an allocated one it adds a 4 KiB read from the (page-cached) image file.
/// </summary>
[MemoryDiagnoser]
public class Qcow2LookupBenchmarks
{
    private const ulong DiskSize = 1UL << 30;
    private const int Clusters = 1024;
    private const int ClusterSize = 1 << 16;

    private readonly byte[] _buffer = new byte[4096];
    private string _path = null!;
    private Qcow2Image _image = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), $"vessel-bdn-{Environment.ProcessId}.qcow2");
        Qcow2Image.Create(_path, DiskSize);
        _image = Qcow2Image.Open(_path, readOnly: false);
        byte[] data = new byte[4096];
        Random.Shared.NextBytes(data);

        // Every even cluster of the first 128 MiB (spread over two L2 tables) gets data; odd ones stay unallocated.
        for (int c = 0; c < Clusters * 2; c += 2)
        {
            _image.Write((ulong)c * ClusterSize, data);
        }

        _image.Flush();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _image.Dispose();
        File.Delete(_path);
    }

    [Benchmark]
    public byte UnallocatedLookup()
    {
        _next = (_next + 1) % Clusters;
        _image.Read((((ulong)_next * 2) + 1) * ClusterSize, _buffer);
        return _buffer[0];
    }

    [Benchmark]
    public byte AllocatedRead4K()
    {
        _next = (_next + 1) % Clusters;
        _image.Read((ulong)_next * 2 * ClusterSize, _buffer);
        return _buffer[17];
    }
}
