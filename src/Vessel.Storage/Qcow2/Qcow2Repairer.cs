namespace Vessel.Storage.Qcow2;

/// <summary>
/// Repairs a qcow2 image's refcounts like <c>qemu-img check -r</c>: check, recount every reference, set the stored
/// refcounts to the counts (leaks only, or leaks and corruptions), then check again. Structural damage (tables
/// outside the file) is reported but not repaired.
/// </summary>
public static class Qcow2Repairer
{
    public static Qcow2RepairResult Repair(string path, Qcow2RepairMode mode)
    {
        var before = Qcow2Checker.Check(path);
        if (before.IsClean)
        {
            return new Qcow2RepairResult(before, [], 0, 0, before);
        }

        List<string> messages;
        int leaksFixed, corruptionsFixed;
        try
        {
            using var image = Qcow2Image.OpenDetached(path, readOnly: false);
            var (references, _) = Qcow2Checker.CountReferences(image.Handle, image.Header, path);
            messages = image.RepairRefcounts(references, fixLeaks: true, mode == Qcow2RepairMode.All, out leaksFixed, out corruptionsFixed);
        }
        catch (IOException e)
        {
            throw new DiskImageException($"{path}: cannot repair: {e.Message}", e);
        }

        var after = Qcow2Checker.Check(path);
        if (mode == Qcow2RepairMode.All && after.IsClean)
        {
            // Only a consistent image loses its dirty/corrupt marks.
            using var image = Qcow2Image.OpenDetached(path, readOnly: false);
            image.ClearDirtyAndCorrupt();
        }

        return new Qcow2RepairResult(before, messages, leaksFixed, corruptionsFixed, after);
    }
}
