using System.IO.Compression;

namespace Vessel.Storage.Qcow2;

/// <summary>
/// qcow2's zlib compression type: a raw deflate stream (no zlib header) per cluster. QEMU inflates with a 4 KiB
/// window (windowBits -12), so <see cref="Compress"/> never emits a match more than 4096 bytes back; .NET's
/// DeflateStream cannot be limited that way, hence this small LZ77 encoder with fixed Huffman codes (RFC 1951 3.2.6).
/// </summary>
internal static class Qcow2Deflate
{
    private const int Window = 4096;
    private const int MinMatch = 3;
    private const int MaxMatch = 258;
    private const int HashBits = 14;
    private const int MaxChain = 48;

    private static readonly int[] LengthBase =
        [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];

    private static readonly int[] LengthExtra =
        [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];

    private static readonly int[] DistanceBase =
        [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073];

    private static readonly int[] DistanceExtra =
        [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10];

    /// <summary>Inflates <paramref name="packed"/>; true when it yields exactly <paramref name="output"/>'s length.</summary>
    public static bool TryDecompress(byte[] packed, byte[] output)
    {
        try
        {
            using var stream = new DeflateStream(new MemoryStream(packed), CompressionMode.Decompress);
            int total = 0;
            while (total < output.Length)
            {
                int n = stream.Read(output, total, output.Length - total);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }

            return total == output.Length;
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }

    public static byte[] Compress(ReadOnlySpan<byte> data)
    {
        var writer = new BitWriter(data.Length / 2 + 64);
        writer.Write(1, 1); // BFINAL
        writer.Write(1, 2); // BTYPE 01: fixed Huffman codes
        var head = new int[1 << HashBits];
        Array.Fill(head, -1);
        var previous = new int[data.Length];
        int i = 0;
        while (i < data.Length)
        {
            int bestLength = 0, bestDistance = 0;
            if (i + MinMatch <= data.Length)
            {
                int hash = Hash(data, i);
                int candidate = head[hash];
                int chain = MaxChain;
                int limit = Math.Min(MaxMatch, data.Length - i);
                while (candidate >= 0 && i - candidate <= Window && chain-- > 0)
                {
                    int length = 0;
                    while (length < limit && data[candidate + length] == data[i + length])
                    {
                        length++;
                    }

                    if (length > bestLength)
                    {
                        bestLength = length;
                        bestDistance = i - candidate;
                        if (length == limit)
                        {
                            break;
                        }
                    }

                    candidate = previous[candidate];
                }
            }

            int step = bestLength >= MinMatch ? bestLength : 1;
            if (bestLength >= MinMatch)
            {
                WriteMatch(writer, bestLength, bestDistance);
            }
            else
            {
                WriteSymbol(writer, data[i]);
            }

            for (int k = 0; k < step; k++, i++)
            {
                if (i + MinMatch <= data.Length)
                {
                    int hash = Hash(data, i);
                    previous[i] = head[hash];
                    head[hash] = i;
                }
            }
        }

        WriteSymbol(writer, 256); // end of block
        return writer.ToArray();
    }

    private static int Hash(ReadOnlySpan<byte> data, int i) =>
        (int)(((uint)(data[i] << 16 | data[i + 1] << 8 | data[i + 2]) * 2654435761u) >> (32 - HashBits));

    private static void WriteMatch(BitWriter writer, int length, int distance)
    {
        int code = LengthBase.Length - 1;
        while (LengthBase[code] > length)
        {
            code--;
        }

        WriteSymbol(writer, 257 + code);
        writer.Write((uint)(length - LengthBase[code]), LengthExtra[code]);
        int d = DistanceBase.Length - 1;
        while (DistanceBase[d] > distance)
        {
            d--;
        }

        writer.WriteHuffman((uint)d, 5);
        writer.Write((uint)(distance - DistanceBase[d]), DistanceExtra[d]);
    }

    /// <summary>Fixed literal/length code (RFC 1951 3.2.6).</summary>
    private static void WriteSymbol(BitWriter writer, int symbol)
    {
        switch (symbol)
        {
            case < 144:
                writer.WriteHuffman((uint)(0x30 + symbol), 8);
                break;
            case < 256:
                writer.WriteHuffman((uint)(0x190 + symbol - 144), 9);
                break;
            case < 280:
                writer.WriteHuffman((uint)(symbol - 256), 7);
                break;
            default:
                writer.WriteHuffman((uint)(0xc0 + symbol - 280), 8);
                break;
        }
    }

    private sealed class BitWriter(int capacity)
    {
        private readonly List<byte> _bytes = new(capacity);
        private ulong _bits;
        private int _count;

        /// <summary>Writes <paramref name="count"/> bits least significant first (header fields, extra bits).</summary>
        public void Write(uint value, int count)
        {
            _bits |= (ulong)value << _count;
            _count += count;
            while (_count >= 8)
            {
                _bytes.Add((byte)_bits);
                _bits >>= 8;
                _count -= 8;
            }
        }

        /// <summary>Huffman codes are packed most significant bit first.</summary>
        public void WriteHuffman(uint code, int length)
        {
            uint reversed = 0;
            for (int b = 0; b < length; b++)
            {
                reversed = (reversed << 1) | ((code >> b) & 1);
            }

            Write(reversed, length);
        }

        public byte[] ToArray()
        {
            if (_count > 0)
            {
                _bytes.Add((byte)_bits);
                _bits = 0;
                _count = 0;
            }

            return [.. _bytes];
        }
    }
}
