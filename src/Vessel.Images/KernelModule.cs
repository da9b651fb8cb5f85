namespace Vessel.Images;

/// <summary>A kernel module chosen for the initramfs, decompressed.</summary>
/// <param name="Name">Normalised module name, e.g. "virtio_rng".</param>
/// <param name="RelativePath">Path under <c>/lib/modules/VERSION/</c> as it will be in the initramfs, e.g. "kernel/drivers/char/hw_random/virtio-rng.ko".</param>
/// <param name="Image">The uncompressed ELF image (what insmod loads).</param>
/// <param name="Info">What its .modinfo says.</param>
public sealed record KernelModule(string Name, string RelativePath, byte[] Image, KernelModuleInfo Info);
