using System.Collections.Concurrent;
using System.Diagnostics;

namespace Vessel.RiscV.Jit;

/// <summary>
/// Compiles hot blocks off the harts' threads (issue 9): building the IL and RyuJIT's compile of it take about a
/// millisecond per block, which on a Linux boot added up to a quarter of the run when harts waited for it. One
/// thread per process serves every hart through a bounded queue; a hart whose block finds the queue full keeps
/// interpreting it and offers it again later, so neither side ever waits for the other.
/// </summary>
internal sealed class BackgroundCompiler
{
    /// <summary>Blocks queued at most; beyond that the newest hot blocks wait in the interpreter.</summary>
    public const int QueueCapacity = 256;

    private static readonly Lazy<BackgroundCompiler> SharedInstance = new(() => new BackgroundCompiler(QueueCapacity));

    private readonly BlockingCollection<PendingTranslation> _queue;

    private BackgroundCompiler(int capacity)
    {
        _queue = new BlockingCollection<PendingTranslation>(new ConcurrentQueue<PendingTranslation>(), capacity);
        var thread = new Thread(CompileLoop) { IsBackground = true, Name = "vessel-jit-compiler" };
        thread.Start();
    }

    /// <summary>The process's compiler thread, started on first use.</summary>
    public static BackgroundCompiler Shared => SharedInstance.Value;

    /// <summary>Queues a block without waiting; false when the queue is full.</summary>
    public bool TryQueue(PendingTranslation block) => _queue.TryAdd(block);

    private void CompileLoop()
    {
        foreach (var block in _queue.GetConsumingEnumerable())
        {
            long start = Stopwatch.GetTimestamp();
            try
            {
                var code = BlockTranslator.Compile(block.Pc, block.Host, block.GuestCode, block.Block);
                BlockTranslator.Warm(code);
                block.Complete(code, Stopwatch.GetTimestamp() - start);
            }
            catch (Exception e) when (e is InvalidProgramException or NotSupportedException or ArgumentException or InvalidOperationException)
            {
                // A translator bug must not take the VM down: the block stays with the interpreter (the reference).
                block.Fail();
            }
        }
    }
}
