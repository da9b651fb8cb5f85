namespace Vessel.Machine.Conformance;

/// <summary>
/// The outcome of one riscv-tests ELF. <see cref="FailedTestNumber"/> is the TESTNUM the test reported
/// (0 when it passed or never reported); <see cref="Error"/> explains a failure that is not a test number.
/// </summary>
public sealed record RiscvTestResult(string Name, bool Passed, ulong FailedTestNumber, ulong Instructions, TimeSpan Elapsed, string? Error);
