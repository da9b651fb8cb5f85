namespace Vessel.Machine.Loading;

/// <summary>
/// One PT_LOAD segment of an ELF executable: <see cref="FileBytes"/> go to <see cref="PhysicalAddress"/>
/// (p_paddr), and the rest of <see cref="MemorySize"/> (p_memsz) after them is zero-filled (.bss).
/// </summary>
public sealed record ElfSegment(ulong PhysicalAddress, ulong VirtualAddress, ReadOnlyMemory<byte> FileBytes, ulong MemorySize);
