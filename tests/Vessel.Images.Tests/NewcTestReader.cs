using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Vessel.Images.Tests;

/// <summary>An independent newc reader for the tests: parses every header field and checks the 4-byte alignment.</summary>
internal static class NewcTestReader
{
    public sealed record Entry(string Name, uint Inode, uint Mode, uint Uid, uint Gid, uint Nlink, uint MTime, uint RdevMajor, uint RdevMinor, byte[] Data)
    {
        public uint Type => Mode & 0xF000;

        public uint Permissions => Mode & 0xFFF;

        public string Text => Encoding.UTF8.GetString(Data);
    }

    public static List<Entry> ReadGzip(byte[] gzip)
    {
        using var input = new GZipStream(new MemoryStream(gzip), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        input.CopyTo(plain);
        return Read(plain.ToArray());
    }

    public static List<Entry> Read(byte[] archive)
    {
        var entries = new List<Entry>();
        int pos = 0;
        while (true)
        {
            Assert.Equal(0, pos % 4);
            Assert.Equal("070701", Encoding.ASCII.GetString(archive, pos, 6));
            uint Field(int i) => uint.Parse(Encoding.ASCII.GetString(archive, pos + 6 + (i * 8), 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            uint size = Field(6);
            uint nameSize = Field(11);
            Assert.Equal(0u, Field(12)); // check field is 0 in newc
            string name = Encoding.UTF8.GetString(archive, pos + 110, (int)nameSize - 1);
            Assert.Equal(0, archive[pos + 110 + (int)nameSize - 1]);
            int dataStart = Align(pos + 110 + (int)nameSize);
            byte[] data = archive[dataStart..(dataStart + (int)size)];
            var entry = new Entry(name, Field(0), Field(1), Field(2), Field(3), Field(4), Field(5), Field(9), Field(10), data);
            pos = Align(dataStart + (int)size);
            if (name == "TRAILER!!!")
            {
                Assert.Equal(archive.Length, pos);
                return entries;
            }

            entries.Add(entry);
        }
    }

    private static int Align(int value) => (value + 3) & ~3;
}
