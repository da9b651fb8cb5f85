using Vessel.Storage.Qcow2;

namespace Vessel.Storage.Tests;

/// <summary>
/// Random sequences of writes, zeroing, snapshot creation, application and deletion, replayed on an in-memory model
/// of the disk; qemu-img then checks the image and restores every remaining snapshot to compare with the model.
/// </summary>
public sealed class Qcow2SnapshotStressTests : IDisposable
{
    private const int Size = 2 << 20;
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [QemuImgTheory]
    [InlineData("1.1", 12, 1)]
    [InlineData("1.1", 16, 2)]
    [InlineData("0.10", 12, 3)]
    [InlineData("1.1", 9, 4)]
    public void RandomOperationsMatchModel(string compat, int clusterBits, int seed)
    {
        string path = _temp.File("stress.qcow2");
        QemuImg.Succeed("create", "-f", "qcow2", "-o", $"compat={compat},cluster_size={1 << clusterBits}", path, Size.ToString());
        var random = new Random(seed);
        byte[] model = new byte[Size];
        var snapshots = new Dictionary<string, byte[]>();
        int created = 0;
        var image = Qcow2Image.Open(path, readOnly: false);
        try
        {
            for (int step = 0; step < 120; step++)
            {
                int op = random.Next(10);
                if (op < 5)
                {
                    int length = random.Next(1, 40_000);
                    int offset = random.Next(0, Size - length);
                    byte[] data = TestData.Pattern(length, (seed * 10_000) + step);
                    image.Write((ulong)offset, data);
                    data.CopyTo(model, offset);
                }
                else if (op == 5)
                {
                    int length = random.Next(1, 200_000) & ~511;
                    int offset = random.Next(0, (Size - length) / 512) * 512;
                    image.WriteZeroes((ulong)offset, (ulong)length);
                    Array.Clear(model, offset, length);
                }
                else if (op == 6 && snapshots.Count < 6)
                {
                    string name = $"snap{created++}";
                    image.CreateSnapshot(name);
                    snapshots[name] = (byte[])model.Clone();
                }
                else if (op == 7 && snapshots.Count > 0)
                {
                    string name = snapshots.Keys.ElementAt(random.Next(snapshots.Count));
                    image.ApplySnapshot(name);
                    snapshots[name].CopyTo(model, 0);
                }
                else if (op == 8 && snapshots.Count > 0)
                {
                    string name = snapshots.Keys.ElementAt(random.Next(snapshots.Count));
                    image.DeleteSnapshot(name);
                    snapshots.Remove(name);
                }
                else
                {
                    image.Dispose();
                    image = Qcow2Image.Open(path, readOnly: false);
                }

                if (step % 30 == 29)
                {
                    Assert.Equal(model, TestData.ReadAll(image, 0, Size));
                }
            }

            Assert.Equal(snapshots.Keys.Order(), image.ListSnapshots().Select(s => s.Name).Order());
            Assert.Equal(model, TestData.ReadAll(image, 0, Size));
        }
        finally
        {
            image.Dispose();
        }

        QemuImg.Succeed("check", path);
        string expected = _temp.File("expected.raw");
        File.WriteAllBytes(expected, model);
        QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", path, expected);
        foreach (var (name, content) in snapshots)
        {
            QemuImg.Succeed("snapshot", "-a", name, path);
            File.WriteAllBytes(expected, content);
            QemuImg.Succeed("compare", "-f", "qcow2", "-F", "raw", path, expected);
            QemuImg.Succeed("check", path);
        }
    }
}
