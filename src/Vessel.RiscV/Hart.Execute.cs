using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using Vessel.RiscV.Decoding;

namespace Vessel.RiscV;

/// <summary>
/// The interpreter (DESIGN.md §4): fetch through a cached page, look the word up in the decode cache, dispatch on
/// a dense opcode enum. Nothing here allocates or throws; traps are raised as values and end the inner loop.
/// </summary>
public sealed unsafe partial class Hart
{
    /// <summary>Instructions run between checks for interrupts and exit requests.</summary>
    private const long InterruptCheckInterval = 4096;

    private readonly ManualResetEventSlim _wake = new(false);

    /// <summary>
    /// Runs up to <paramref name="maxInstructions"/> instructions, taking interrupts between blocks.
    /// </summary>
    public HartRunResult Run(long maxInstructions)
    {
        long budget = maxInstructions;
        while (budget > 0)
        {
            if (Volatile.Read(ref _exitRequested) != 0)
            {
                Volatile.Write(ref _exitRequested, 0);
                if (_exitPending)
                {
                    _exitPending = false;
                    return HartRunResult.ExitRequested;
                }
            }

            if (IsWaitingForInterrupt)
            {
                // WFI resumes when any interrupt is pending and enabled in mie, whatever the global enables (3.3.3).
                if ((Mip & _mie) == 0)
                {
                    return HartRunResult.WaitingForInterrupt;
                }

                IsWaitingForInterrupt = false;
            }

            TryTakeInterrupt();
            long slice = Math.Min(budget, InterruptCheckInterval);
            budget -= Engine == CpuEngine.Jit ? RunTranslated(slice) : RunBlock(slice);
        }

        return HartRunResult.BudgetExhausted;
    }

    /// <summary>Makes <see cref="Run"/> return <see cref="HartRunResult.ExitRequested"/> soon; safe from any thread.</summary>
    public void Stop()
    {
        _exitPending = true;
        Volatile.Write(ref _exitRequested, 1);
        WakeFromWfi();
    }

    private volatile bool _exitPending;

    /// <summary>Parks the calling thread until an interrupt is raised or <paramref name="timeout"/> passes.</summary>
    public void WaitForInterrupt(TimeSpan timeout)
    {
        if ((Mip & _mie) != 0 || _exitPending)
        {
            return;
        }

        _wake.Wait(timeout);
        _wake.Reset();
    }

    private void WakeFromWfi() => _wake.Set();

    /// <summary>Executes up to <paramref name="limit"/> instructions; returns how many were attempted.</summary>
    private long RunBlock(long limit)
    {
        ulong* x = _x;
        DecodedInstruction* cache = _decodeCache;
        ulong fetchTag = InvalidTag;
        long fetchDelta = 0;
        long executed = 0;
        while (executed < limit)
        {
            executed++;
            ulong pc = Pc;
            uint word;
            if ((pc >> 12) == fetchTag && (pc & 0xFFF) <= 0xFFC)
            {
                word = Unsafe.ReadUnaligned<uint>((void*)(long)(pc + (ulong)fetchDelta));
            }
            else
            {
                ref TlbEntry fe = ref _fetchTlb[(int)((pc >> 12) & TlbMask)];
                if (fe.Tag == pc >> 12 && (pc & 0xFFF) <= 0xFFC)
                {
                    // A fetch TLB hit needs no page walk (blocks start here after every SYSTEM instruction).
                    word = Unsafe.ReadUnaligned<uint>((void*)(long)(pc + (ulong)fe.HostDelta));
                }
                else if (!FetchSlow(pc, out word))
                {
                    break;
                }

                if (fe.Tag == pc >> 12)
                {
                    fetchTag = fe.Tag;
                    fetchDelta = fe.HostDelta;
                }
                else
                {
                    fetchTag = InvalidTag;
                }
            }

            DecodedInstruction* d = cache + ((pc >> 1) & DecodeCacheMask);
            uint key = (word & 3) == 3 ? word : word & 0xFFFF;
            if (d->Raw != key)
            {
                *d = Decoder.Decode(word);
            }

            ulong next = pc + d->Length;
            switch (d->Op)
            {
                case Opcode.Lui: x[d->Rd] = (ulong)(long)d->Imm; break;
                case Opcode.Auipc: x[d->Rd] = pc + (ulong)(long)d->Imm; break;
                case Opcode.Jal:
                    x[d->Rd] = next;
                    next = pc + (ulong)(long)d->Imm;
                    break;
                case Opcode.Jalr:
                    {
                        ulong target = (x[d->Rs1] + (ulong)(long)d->Imm) & ~1UL;
                        x[d->Rd] = next;
                        next = target;
                        break;
                    }

                case Opcode.Beq: if (x[d->Rs1] == x[d->Rs2]) { next = pc + (ulong)(long)d->Imm; } break;
                case Opcode.Bne: if (x[d->Rs1] != x[d->Rs2]) { next = pc + (ulong)(long)d->Imm; } break;
                case Opcode.Blt: if ((long)x[d->Rs1] < (long)x[d->Rs2]) { next = pc + (ulong)(long)d->Imm; } break;
                case Opcode.Bge: if ((long)x[d->Rs1] >= (long)x[d->Rs2]) { next = pc + (ulong)(long)d->Imm; } break;
                case Opcode.Bltu: if (x[d->Rs1] < x[d->Rs2]) { next = pc + (ulong)(long)d->Imm; } break;
                case Opcode.Bgeu: if (x[d->Rs1] >= x[d->Rs2]) { next = pc + (ulong)(long)d->Imm; } break;

                case Opcode.Lb: { if (!Load(x[d->Rs1] + (ulong)(long)d->Imm, out sbyte v)) { goto trapped; } x[d->Rd] = (ulong)v; break; }
                case Opcode.Lh: { if (!Load(x[d->Rs1] + (ulong)(long)d->Imm, out short v)) { goto trapped; } x[d->Rd] = (ulong)v; break; }
                case Opcode.Lw: { if (!Load(x[d->Rs1] + (ulong)(long)d->Imm, out int v)) { goto trapped; } x[d->Rd] = (ulong)v; break; }
                case Opcode.Ld: { if (!Load(x[d->Rs1] + (ulong)(long)d->Imm, out ulong v)) { goto trapped; } x[d->Rd] = v; break; }
                case Opcode.Lbu: { if (!Load(x[d->Rs1] + (ulong)(long)d->Imm, out byte v)) { goto trapped; } x[d->Rd] = v; break; }
                case Opcode.Lhu: { if (!Load(x[d->Rs1] + (ulong)(long)d->Imm, out ushort v)) { goto trapped; } x[d->Rd] = v; break; }
                case Opcode.Lwu: { if (!Load(x[d->Rs1] + (ulong)(long)d->Imm, out uint v)) { goto trapped; } x[d->Rd] = v; break; }
                case Opcode.Sb: if (!Store(x[d->Rs1] + (ulong)(long)d->Imm, (byte)x[d->Rs2])) { goto trapped; } break;
                case Opcode.Sh: if (!Store(x[d->Rs1] + (ulong)(long)d->Imm, (ushort)x[d->Rs2])) { goto trapped; } break;
                case Opcode.Sw: if (!Store(x[d->Rs1] + (ulong)(long)d->Imm, (uint)x[d->Rs2])) { goto trapped; } break;
                case Opcode.Sd: if (!Store(x[d->Rs1] + (ulong)(long)d->Imm, x[d->Rs2])) { goto trapped; } break;

                case Opcode.Addi: x[d->Rd] = x[d->Rs1] + (ulong)(long)d->Imm; break;
                case Opcode.Slti: x[d->Rd] = (long)x[d->Rs1] < d->Imm ? 1UL : 0UL; break;
                case Opcode.Sltiu: x[d->Rd] = x[d->Rs1] < (ulong)(long)d->Imm ? 1UL : 0UL; break;
                case Opcode.Xori: x[d->Rd] = x[d->Rs1] ^ (ulong)(long)d->Imm; break;
                case Opcode.Ori: x[d->Rd] = x[d->Rs1] | (ulong)(long)d->Imm; break;
                case Opcode.Andi: x[d->Rd] = x[d->Rs1] & (ulong)(long)d->Imm; break;
                case Opcode.Slli: x[d->Rd] = x[d->Rs1] << d->Imm; break;
                case Opcode.Srli: x[d->Rd] = x[d->Rs1] >> d->Imm; break;
                case Opcode.Srai: x[d->Rd] = (ulong)((long)x[d->Rs1] >> d->Imm); break;
                case Opcode.Add: x[d->Rd] = x[d->Rs1] + x[d->Rs2]; break;
                case Opcode.Sub: x[d->Rd] = x[d->Rs1] - x[d->Rs2]; break;
                case Opcode.Sll: x[d->Rd] = x[d->Rs1] << (int)(x[d->Rs2] & 63); break;
                case Opcode.Slt: x[d->Rd] = (long)x[d->Rs1] < (long)x[d->Rs2] ? 1UL : 0UL; break;
                case Opcode.Sltu: x[d->Rd] = x[d->Rs1] < x[d->Rs2] ? 1UL : 0UL; break;
                case Opcode.Xor: x[d->Rd] = x[d->Rs1] ^ x[d->Rs2]; break;
                case Opcode.Srl: x[d->Rd] = x[d->Rs1] >> (int)(x[d->Rs2] & 63); break;
                case Opcode.Sra: x[d->Rd] = (ulong)((long)x[d->Rs1] >> (int)(x[d->Rs2] & 63)); break;
                case Opcode.Or: x[d->Rd] = x[d->Rs1] | x[d->Rs2]; break;
                case Opcode.And: x[d->Rd] = x[d->Rs1] & x[d->Rs2]; break;
                case Opcode.Addiw: x[d->Rd] = (ulong)(long)(int)(x[d->Rs1] + (ulong)(long)d->Imm); break;
                case Opcode.Slliw: x[d->Rd] = (ulong)(long)((int)x[d->Rs1] << d->Imm); break;
                case Opcode.Srliw: x[d->Rd] = (ulong)(long)(int)((uint)x[d->Rs1] >> d->Imm); break;
                case Opcode.Sraiw: x[d->Rd] = (ulong)(long)((int)x[d->Rs1] >> d->Imm); break;
                case Opcode.Addw: x[d->Rd] = (ulong)(long)(int)(x[d->Rs1] + x[d->Rs2]); break;
                case Opcode.Subw: x[d->Rd] = (ulong)(long)(int)(x[d->Rs1] - x[d->Rs2]); break;
                case Opcode.Sllw: x[d->Rd] = (ulong)(long)((int)x[d->Rs1] << (int)(x[d->Rs2] & 31)); break;
                case Opcode.Srlw: x[d->Rd] = (ulong)(long)(int)((uint)x[d->Rs1] >> (int)(x[d->Rs2] & 31)); break;
                case Opcode.Sraw: x[d->Rd] = (ulong)(long)((int)x[d->Rs1] >> (int)(x[d->Rs2] & 31)); break;
                case Opcode.Fence:
                    // x86 keeps every order RVWMO needs except store-then-load; a full barrier covers it.
                    Interlocked.MemoryBarrier();
                    break;
                case Opcode.FenceI: break; // the decode cache checks the fetched bytes, so it is never stale

                case Opcode.Mul: x[d->Rd] = x[d->Rs1] * x[d->Rs2]; break;
                case Opcode.Mulh: x[d->Rd] = (ulong)Math.BigMul((long)x[d->Rs1], (long)x[d->Rs2], out _); break;
                case Opcode.Mulhu: x[d->Rd] = Math.BigMul(x[d->Rs1], x[d->Rs2], out _); break;
                case Opcode.Mulhsu:
                    {
                        ulong a = x[d->Rs1], b = x[d->Rs2];
                        ulong high = Math.BigMul(a, b, out _);
                        x[d->Rd] = (long)a < 0 ? high - b : high;
                        break;
                    }

                case Opcode.Div: x[d->Rd] = (ulong)DivSigned((long)x[d->Rs1], (long)x[d->Rs2]); break;
                case Opcode.Divu: { ulong b = x[d->Rs2]; x[d->Rd] = b == 0 ? ulong.MaxValue : x[d->Rs1] / b; break; }
                case Opcode.Rem: x[d->Rd] = (ulong)RemSigned((long)x[d->Rs1], (long)x[d->Rs2]); break;
                case Opcode.Remu: { ulong b = x[d->Rs2]; x[d->Rd] = b == 0 ? x[d->Rs1] : x[d->Rs1] % b; break; }
                case Opcode.Mulw: x[d->Rd] = (ulong)(long)(int)((uint)x[d->Rs1] * (uint)x[d->Rs2]); break;
                case Opcode.Divw: x[d->Rd] = (ulong)(long)(int)DivSigned((int)x[d->Rs1], (int)x[d->Rs2]); break;
                case Opcode.Divuw: { uint b = (uint)x[d->Rs2]; x[d->Rd] = (ulong)(long)(int)(b == 0 ? uint.MaxValue : (uint)x[d->Rs1] / b); break; }
                case Opcode.Remw: x[d->Rd] = (ulong)(long)(int)RemSigned((int)x[d->Rs1], (int)x[d->Rs2]); break;
                case Opcode.Remuw: { uint b = (uint)x[d->Rs2]; x[d->Rd] = (ulong)(long)(int)(b == 0 ? (uint)x[d->Rs1] : (uint)x[d->Rs1] % b); break; }

                case Opcode.AddUw: x[d->Rd] = (x[d->Rs1] & 0xFFFF_FFFF) + x[d->Rs2]; break;
                case Opcode.Sh1Add: x[d->Rd] = (x[d->Rs1] << 1) + x[d->Rs2]; break;
                case Opcode.Sh2Add: x[d->Rd] = (x[d->Rs1] << 2) + x[d->Rs2]; break;
                case Opcode.Sh3Add: x[d->Rd] = (x[d->Rs1] << 3) + x[d->Rs2]; break;
                case Opcode.Sh1AddUw: x[d->Rd] = ((x[d->Rs1] & 0xFFFF_FFFF) << 1) + x[d->Rs2]; break;
                case Opcode.Sh2AddUw: x[d->Rd] = ((x[d->Rs1] & 0xFFFF_FFFF) << 2) + x[d->Rs2]; break;
                case Opcode.Sh3AddUw: x[d->Rd] = ((x[d->Rs1] & 0xFFFF_FFFF) << 3) + x[d->Rs2]; break;
                case Opcode.SlliUw: x[d->Rd] = (x[d->Rs1] & 0xFFFF_FFFF) << d->Imm; break;

                case Opcode.Andn: x[d->Rd] = x[d->Rs1] & ~x[d->Rs2]; break;
                case Opcode.Orn: x[d->Rd] = x[d->Rs1] | ~x[d->Rs2]; break;
                case Opcode.Xnor: x[d->Rd] = ~(x[d->Rs1] ^ x[d->Rs2]); break;
                case Opcode.Clz: x[d->Rd] = (ulong)BitOperations.LeadingZeroCount(x[d->Rs1]); break;
                case Opcode.Clzw: x[d->Rd] = (ulong)BitOperations.LeadingZeroCount((uint)x[d->Rs1]); break;
                case Opcode.Ctz: x[d->Rd] = (ulong)BitOperations.TrailingZeroCount(x[d->Rs1]); break;
                case Opcode.Ctzw: x[d->Rd] = (ulong)BitOperations.TrailingZeroCount((uint)x[d->Rs1]); break;
                case Opcode.Cpop: x[d->Rd] = (ulong)BitOperations.PopCount(x[d->Rs1]); break;
                case Opcode.Cpopw: x[d->Rd] = (ulong)BitOperations.PopCount((uint)x[d->Rs1]); break;
                case Opcode.Max: x[d->Rd] = (long)x[d->Rs1] > (long)x[d->Rs2] ? x[d->Rs1] : x[d->Rs2]; break;
                case Opcode.Maxu: x[d->Rd] = Math.Max(x[d->Rs1], x[d->Rs2]); break;
                case Opcode.Min: x[d->Rd] = (long)x[d->Rs1] < (long)x[d->Rs2] ? x[d->Rs1] : x[d->Rs2]; break;
                case Opcode.Minu: x[d->Rd] = Math.Min(x[d->Rs1], x[d->Rs2]); break;
                case Opcode.SextB: x[d->Rd] = (ulong)(long)(sbyte)x[d->Rs1]; break;
                case Opcode.SextH: x[d->Rd] = (ulong)(long)(short)x[d->Rs1]; break;
                case Opcode.ZextH: x[d->Rd] = (ushort)x[d->Rs1]; break;
                case Opcode.Rol: x[d->Rd] = BitOperations.RotateLeft(x[d->Rs1], (int)(x[d->Rs2] & 63)); break;
                case Opcode.Ror: x[d->Rd] = BitOperations.RotateRight(x[d->Rs1], (int)(x[d->Rs2] & 63)); break;
                case Opcode.Rori: x[d->Rd] = BitOperations.RotateRight(x[d->Rs1], d->Imm); break;
                case Opcode.Rolw: x[d->Rd] = (ulong)(long)(int)BitOperations.RotateLeft((uint)x[d->Rs1], (int)(x[d->Rs2] & 31)); break;
                case Opcode.Rorw: x[d->Rd] = (ulong)(long)(int)BitOperations.RotateRight((uint)x[d->Rs1], (int)(x[d->Rs2] & 31)); break;
                case Opcode.Roriw: x[d->Rd] = (ulong)(long)(int)BitOperations.RotateRight((uint)x[d->Rs1], d->Imm); break;
                case Opcode.OrcB: x[d->Rd] = OrCombineBytes(x[d->Rs1]); break;
                case Opcode.Rev8: x[d->Rd] = BinaryPrimitives.ReverseEndianness(x[d->Rs1]); break;
                case Opcode.Clmul: x[d->Rd] = CarrylessMultiply(x[d->Rs1], x[d->Rs2], out _); break;
                case Opcode.Clmulh: CarrylessMultiply(x[d->Rs1], x[d->Rs2], out x[d->Rd]); break;
                case Opcode.Clmulr:
                    {
                        ulong low = CarrylessMultiply(x[d->Rs1], x[d->Rs2], out ulong high);
                        x[d->Rd] = (high << 1) | (low >> 63);
                        break;
                    }

                case Opcode.Bclr: x[d->Rd] = x[d->Rs1] & ~(1UL << (int)(x[d->Rs2] & 63)); break;
                case Opcode.Bclri: x[d->Rd] = x[d->Rs1] & ~(1UL << d->Imm); break;
                case Opcode.Bext: x[d->Rd] = (x[d->Rs1] >> (int)(x[d->Rs2] & 63)) & 1; break;
                case Opcode.Bexti: x[d->Rd] = (x[d->Rs1] >> d->Imm) & 1; break;
                case Opcode.Binv: x[d->Rd] = x[d->Rs1] ^ (1UL << (int)(x[d->Rs2] & 63)); break;
                case Opcode.Binvi: x[d->Rd] = x[d->Rs1] ^ (1UL << d->Imm); break;
                case Opcode.Bset: x[d->Rd] = x[d->Rs1] | (1UL << (int)(x[d->Rs2] & 63)); break;
                case Opcode.Bseti: x[d->Rd] = x[d->Rs1] | (1UL << d->Imm); break;

                case >= Opcode.LrW and <= Opcode.AmoMaxuD:
                    if (!ExecuteAtomic(d))
                    {
                        goto trapped;
                    }

                    break;

                case >= Opcode.Ecall and <= Opcode.Csrrci:
                    // System instructions may change privilege, translation or interrupt state: leave the block.
                    if (ExecuteSystem(d, next))
                    {
                        _instret++;
                    }

                    return executed;

                case >= Opcode.Flw:
                    if (!ExecuteFloat(d))
                    {
                        goto trapped;
                    }

                    break;

                default:
                    RaiseException(TrapCause.IllegalInstruction, d->Raw);
                    goto trapped;
            }

            Pc = next;
            _instret++;
            continue;

        trapped:
            // Pc now points at the trap handler, possibly in another privilege mode.
            return executed;
        }

        return executed;
    }

    private static long DivSigned(long a, long b)
    {
        // Unprivileged spec 13.2: division by zero gives -1; overflow (MIN / -1) gives MIN.
        if (b == 0)
        {
            return -1;
        }

        return b == -1 ? unchecked(-a) : a / b;
    }

    private static long RemSigned(long a, long b)
    {
        if (b == 0)
        {
            return a;
        }

        return b == -1 ? 0 : a % b;
    }

    private static ulong OrCombineBytes(ulong v)
    {
        ulong result = 0;
        for (int i = 0; i < 64; i += 8)
        {
            if (((v >> i) & 0xFF) != 0)
            {
                result |= 0xFFUL << i;
            }
        }

        return result;
    }

    private static ulong CarrylessMultiply(ulong a, ulong b, out ulong high)
    {
        ulong low = 0;
        high = 0;
        while (b != 0)
        {
            int i = BitOperations.TrailingZeroCount(b);
            low ^= a << i;
            if (i != 0)
            {
                high ^= a >> (64 - i);
            }

            b &= b - 1;
        }

        return low;
    }
}
