namespace Vessel.RiscV;

/// <summary>Why <see cref="Hart.Run"/> returned.</summary>
public enum HartRunResult
{
    /// <summary>The instruction budget was used up.</summary>
    BudgetExhausted,

    /// <summary>The hart executed WFI and no interrupt is pending: park the thread until one is.</summary>
    WaitingForInterrupt,

    /// <summary>Another thread called <see cref="Hart.RequestExit"/>.</summary>
    ExitRequested,
}
