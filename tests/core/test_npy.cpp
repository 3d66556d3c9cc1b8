// Tests of core/io/npy (.npy and .npz) and core/io/json_file: fixtures written by numpy, round
// trips, malformed input, and a cross-check against numpy itself where /usr/bin/python3 has it.
#include "core/io/npy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/io/json_file.h"
#include "core/util/error.h"

namespace fs = std::filesystem;
using fovea::NpyArray;

namespace {

const std::string kModelDir = FOVEA_TEST_DATA_DIR "/models/timm-vit-tiny";
const std::string kNpzDir = FOVEA_TEST_DATA_DIR "/npz";
const std::string kPython = "/usr/bin/python3";

std::string readBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeBytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

std::uint32_t readLittleEndian32(const std::string& bytes, std::size_t at) {
    std::uint32_t value = 0;
    for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<std::uint8_t>(bytes[at + i]);
    return value;
}

void writeLittleEndian32(std::string& bytes, std::size_t at, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>((value >> (8 * i)) & 0xFF);
}

// Bitwise CRC-32 (the zip polynomial), independent of zlib, for patching archives in tests.
std::uint32_t crc32Of(const std::string& bytes) {
    std::uint32_t crc = 0xFFFFFFFFu;
    for (const char c : bytes) {
        crc ^= static_cast<std::uint8_t>(c);
        for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

bool pythonWithNumpy() {
    return std::system((kPython + " -c 'import numpy' > /dev/null 2>&1").c_str()) == 0;
}

NpyArray arrayOf(const std::string& dtype, std::vector<std::int64_t> shape,
                 std::vector<std::uint8_t> bytes) {
    return NpyArray{dtype, std::move(shape), std::move(bytes)};
}

std::vector<std::uint8_t> countingBytes(std::size_t count) {
    std::vector<std::uint8_t> bytes(count);
    for (std::size_t i = 0; i < count; ++i) bytes[i] = static_cast<std::uint8_t>(i * 37 + 11);
    return bytes;
}

const NpyArray& member(const std::vector<std::pair<std::string, NpyArray>>& arrays,
                       const std::string& name) {
    for (const auto& [memberName, array] : arrays) {
        if (memberName == name) return array;
    }
    throw std::runtime_error("no member " + name);
}

class NpyTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        m_dir = fs::temp_directory_path() / ("fovea_test_npy_" + std::to_string(::getpid()) + "_" +
                                             info->test_suite_name() + "_" + info->name());
        fs::remove_all(m_dir);
        fs::create_directories(m_dir);
    }
    void TearDown() override { fs::remove_all(m_dir); }

    std::string pathOf(const std::string& name) const { return (m_dir / name).string(); }

    // `read` must throw a one-line fovea::Error naming the file and containing every word.
    template <typename Read>
    static void expectError(const std::string& path, const std::vector<std::string>& words,
                            Read read) {
        try {
            read(path);
            ADD_FAILURE() << "accepted " << path;
        } catch (const fovea::Error& error) {
            const std::string message = error.what();
            EXPECT_NE(message.find(fs::path(path).filename().string()), std::string::npos)
                << message;
            EXPECT_EQ(message.find('\n'), std::string::npos) << message;
            for (const std::string& word : words) {
                EXPECT_NE(message.find(word), std::string::npos)
                    << "'" << word << "' missing from: " << message;
            }
        }
    }
    static void expectNpyError(const std::string& path, const std::vector<std::string>& words) {
        expectError(path, words, [](const std::string& file) { fovea::readNpy(file); });
    }
    static void expectNpzError(const std::string& path, const std::vector<std::string>& words) {
        expectError(path, words, [](const std::string& file) { fovea::readNpz(file); });
    }

    // A .npy image whose header text is `header` (padded by this function like numpy does).
    static std::string npyWithHeader(std::string header, const std::string& data) {
        header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
        header += '\n';
        std::string out("\x93NUMPY\x01\x00", 8);
        out += static_cast<char>(header.size() & 0xFF);
        out += static_cast<char>(header.size() >> 8);
        return out + header + data;
    }

    fs::path m_dir;
};

}  // namespace

// ---- Fixtures written by numpy -------------------------------------------------------------

TEST_F(NpyTest, ReadsExpectedLogits) {
    const NpyArray logits = fovea::readNpy(kModelDir + "/expected_logits.npy");
    EXPECT_EQ(logits.dtype, "<f4");
    EXPECT_EQ(logits.shape, (std::vector<std::int64_t>{1, 5}));
    const std::vector<float> values = logits.toFloats();
    ASSERT_EQ(values.size(), 5u);
    for (const float value : values) EXPECT_TRUE(std::isfinite(value) && std::fabs(value) < 1e3f);
}

TEST_F(NpyTest, ExpectedAttentionRowsSumToOne) {
    const NpyArray attention = fovea::readNpy(kModelDir + "/expected_attention.npy");
    EXPECT_EQ(attention.shape, (std::vector<std::int64_t>{3, 3, 17, 17}));
    const std::vector<float> values = attention.toFloats();
    ASSERT_EQ(values.size(), 3u * 3u * 17u * 17u);
    for (std::size_t row = 0; row < values.size() / 17; ++row) {
        double sum = 0;
        for (std::size_t column = 0; column < 17; ++column) {
            const float weight = values[row * 17 + column];
            EXPECT_GE(weight, 0.0f);
            sum += weight;
        }
        EXPECT_NEAR(sum, 1.0, 1e-5) << "row " << row;
    }
}

void expectNumpyFixtureArrays(const std::vector<std::pair<std::string, NpyArray>>& arrays) {
    ASSERT_EQ(arrays.size(), 12u);
    EXPECT_EQ(arrays.front().first, "floats");  // archive order, ".npy" stripped
    const NpyArray& floats = member(arrays, "floats");
    EXPECT_EQ(floats.shape, (std::vector<std::int64_t>{3, 4}));
    std::vector<float> expectedFloats;
    for (int i = 0; i < 12; ++i) expectedFloats.push_back(i * 0.5f - 1.0f);
    EXPECT_EQ(floats.toFloats(), expectedFloats);
    EXPECT_EQ(member(arrays, "doubles").dtype, "<f8");
    EXPECT_FLOAT_EQ(member(arrays, "doubles").toFloats()[0], 1.0f / 3.0f);
    EXPECT_EQ(member(arrays, "halves").toFloats(),
              (std::vector<float>{1.0f, -2.0f, 65504.0f, std::ldexp(1.0f, -24)}));
    EXPECT_EQ(member(arrays, "ints").toInt64s(),
              (std::vector<std::int64_t>{-3, 0, 7, 1099511627776}));
    EXPECT_EQ(member(arrays, "int32s").toInt64s(), (std::vector<std::int64_t>{1, -2, 3, -4}));
    EXPECT_EQ(member(arrays, "bytes").toInt64s(), (std::vector<std::int64_t>{0, 128, 255}));
    EXPECT_EQ(member(arrays, "mask").dtype, "|b1");
    EXPECT_EQ(member(arrays, "mask").toInt64s(), (std::vector<std::int64_t>{1, 0, 1}));
    EXPECT_EQ(member(arrays, "label").toString(), "fovea \u2713");
    EXPECT_EQ(member(arrays, "names").toStrings(),
              (std::vector<std::string>{"cls", "patch", "\U0001F600"}));
    EXPECT_TRUE(member(arrays, "scalar").shape.empty());
    EXPECT_EQ(member(arrays, "scalar").toFloats(), std::vector<float>{3.25f});
    EXPECT_EQ(member(arrays, "empty").shape, (std::vector<std::int64_t>{0, 3}));
    EXPECT_TRUE(member(arrays, "empty").bytes.empty());
    const std::vector<float> ramp = member(arrays, "ramp").toFloats();
    ASSERT_EQ(ramp.size(), 2048u);
    for (std::size_t i = 0; i < ramp.size(); ++i) ASSERT_EQ(ramp[i], static_cast<float>(i % 64));
}

TEST_F(NpyTest, ReadsNumpySavezCompressed) {
    expectNumpyFixtureArrays(fovea::readNpz(kNpzDir + "/savez_compressed.npz"));
}

TEST_F(NpyTest, ReadsNumpySavez) {
    expectNumpyFixtureArrays(fovea::readNpz(kNpzDir + "/savez.npz"));
}

// ---- Round trips ---------------------------------------------------------------------------

TEST_F(NpyTest, NpyRoundTripsEveryDtypeAndShape) {
    const std::vector<std::pair<std::string, std::size_t>> dtypes = {
        {"<f4", 4}, {"<f8", 8}, {"<f2", 2},  {"<i8", 8}, {"<i4", 4},
        {"|u1", 1}, {"|b1", 1}, {"<U3", 12}, {"|i1", 1}, {"<u2", 2}};
    const std::vector<std::vector<std::int64_t>> shapes = {{2, 3}, {}, {0}, {2, 0, 3}, {7}};
    for (const auto& [dtype, size] : dtypes) {
        for (const auto& shape : shapes) {
            std::size_t count = 1;
            for (const std::int64_t extent : shape) count *= static_cast<std::size_t>(extent);
            std::vector<std::uint8_t> bytes = countingBytes(count * size);
            if (dtype == "|b1") {
                for (auto& byte : bytes) byte &= 1;
            }
            const NpyArray original = arrayOf(dtype, shape, bytes);
            const std::string path = pathOf("array.npy");
            fovea::writeNpy(path, original);
            const NpyArray read = fovea::readNpy(path);
            EXPECT_EQ(read.dtype, dtype);
            EXPECT_EQ(read.shape, shape) << dtype;
            EXPECT_EQ(read.bytes, bytes) << dtype;
        }
    }
}

TEST_F(NpyTest, WritesTheHeaderNumpyWrites) {
    const std::string path = pathOf("layout.npy");
    fovea::writeNpy(path, NpyArray::fromFloats({2, 3}, {1, 2, 3, 4, 5, 6}));
    const std::string bytes = readBytes(path);
    ASSERT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
    const std::size_t headerLength =
        static_cast<std::uint8_t>(bytes[8]) |
        (static_cast<std::size_t>(static_cast<std::uint8_t>(bytes[9])) << 8);
    EXPECT_EQ((10 + headerLength) % 64, 0u);  // data aligned to 64 bytes
    const std::string header = bytes.substr(10, headerLength);
    EXPECT_EQ(header.substr(0, header.find('}') + 1),
              "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
    EXPECT_EQ(header.back(), '\n');
    EXPECT_EQ(bytes.size(), 10 + headerLength + 24);

    fovea::writeNpy(path, NpyArray::fromFloats({5}, {1, 2, 3, 4, 5}));
    EXPECT_NE(readBytes(path).find("'shape': (5,), }"), std::string::npos);
    fovea::writeNpy(path, NpyArray::fromFloats({}, {1}));
    EXPECT_NE(readBytes(path).find("'shape': (), }"), std::string::npos);
}

TEST_F(NpyTest, ConvertsFloatsIntegersAndStrings) {
    const NpyArray floats = NpyArray::fromFloats({2, 2}, {0.5f, -1.0f, 3.0f, 1e30f});
    EXPECT_EQ(floats.dtype, "<f4");
    EXPECT_EQ(floats.elementCount(), 4);
    EXPECT_EQ(floats.toFloats(), (std::vector<float>{0.5f, -1.0f, 3.0f, 1e30f}));
    EXPECT_THROW(floats.toInt64s(), fovea::Error);

    const NpyArray ints = NpyArray::fromInt64s({3}, {-1, 0, 1ll << 40});
    EXPECT_EQ(ints.dtype, "<i8");
    EXPECT_EQ(ints.toInt64s(), (std::vector<std::int64_t>{-1, 0, 1ll << 40}));
    EXPECT_EQ(ints.toFloats(), (std::vector<float>{-1.0f, 0.0f, std::ldexp(1.0f, 40)}));

    const std::string text = "h\u00e9llo \u2713 \U0001F600";
    const NpyArray string = NpyArray::fromString(text);
    EXPECT_EQ(string.dtype, "<U9");  // code points, not bytes
    EXPECT_TRUE(string.shape.empty());
    EXPECT_EQ(string.bytes.size(), 36u);
    EXPECT_EQ(string.toString(), text);
    EXPECT_THROW(string.toFloats(), fovea::Error);
    EXPECT_EQ(NpyArray::fromString("").dtype, "<U1");
    EXPECT_EQ(NpyArray::fromString("").toString(), "");

    const NpyArray strings = NpyArray::fromStrings({3}, {"a", "", "longer"});
    EXPECT_EQ(strings.dtype, "<U6");
    EXPECT_EQ(strings.toStrings(), (std::vector<std::string>{"a", "", "longer"}));
    EXPECT_THROW(strings.toString(), fovea::Error);  // three strings, not one

    EXPECT_THROW(NpyArray::fromFloats({2, 2}, {1, 2, 3}), fovea::Error);
    EXPECT_THROW(NpyArray::fromInt64s({2}, {1, 2, 3}), fovea::Error);
    EXPECT_THROW(NpyArray::fromString("\xC3\x28"), fovea::Error);      // invalid UTF-8
    EXPECT_THROW(NpyArray::fromString("\xED\xA0\x80"), fovea::Error);  // a surrogate
    EXPECT_THROW(NpyArray::fromString("\xC0\xAF"), fovea::Error);      // overlong
}

TEST_F(NpyTest, WritesVersion2WhenTheHeaderOutgrowsVersion1) {
    const NpyArray wide = arrayOf("|u1", std::vector<std::int64_t>(25000, 1), {42});
    const std::string path = pathOf("wide.npy");
    fovea::writeNpy(path, wide);
    const std::string bytes = readBytes(path);
    EXPECT_EQ(bytes[6], 2);
    EXPECT_EQ((12 + readLittleEndian32(bytes, 8)) % 64, 0u);
    const NpyArray read = fovea::readNpy(path);
    EXPECT_EQ(read.shape.size(), 25000u);
    EXPECT_EQ(read.bytes, std::vector<std::uint8_t>{42});
}

TEST_F(NpyTest, ReadsVersions2And3) {
    fovea::writeNpy(pathOf("v1.npy"), NpyArray::fromFloats({2}, {1.5f, -2.5f}));
    const std::string v1 = readBytes(pathOf("v1.npy"));
    for (const char major : {'\x02', '\x03'}) {
        // Same header, but with version 2's 4-byte length.
        std::string bytes = v1.substr(0, 6) + major + '\0' + std::string(4, '\0') + v1.substr(10);
        writeLittleEndian32(
            bytes, 8, static_cast<std::uint8_t>(v1[8]) | (static_cast<std::uint8_t>(v1[9]) << 8));
        writeBytes(pathOf("v2.npy"), bytes);
        EXPECT_EQ(fovea::readNpy(pathOf("v2.npy")).toFloats(), (std::vector<float>{1.5f, -2.5f}));
    }
}

TEST_F(NpyTest, AcceptsOneDimensionalFortranOrderAndPython2Longs) {
    writeBytes(pathOf("fortran1d.npy"),
               npyWithHeader("{'descr': '<i4', 'fortran_order': True, 'shape': (2L,), }",
                             std::string("\x01\0\0\0\x02\0\0\0", 8)));
    EXPECT_EQ(fovea::readNpy(pathOf("fortran1d.npy")).toInt64s(),
              (std::vector<std::int64_t>{1, 2}));
}

TEST_F(NpyTest, NpzRoundTrips) {
    const std::vector<std::pair<std::string, NpyArray>> arrays = {
        {"attention", NpyArray::fromFloats({2, 2}, {0.25f, 0.75f, 1.0f, 0.0f})},
        {"labels", NpyArray::fromStrings({2}, {"cat", "d\u00f6g"})},
        {"title", NpyArray::fromString("Fovea \u2713")},
        {"steps", NpyArray::fromInt64s({0}, {})},
        {"half", arrayOf("<f2", {1}, {0x00, 0x3C})},
        {"mask", arrayOf("|b1", {}, {1})},
        {"caf\u00e9", NpyArray::fromFloats({1}, {2.0f})},
    };
    const std::string path = pathOf("run.npz");
    fovea::writeNpz(path, arrays);
    const auto read = fovea::readNpz(path);
    ASSERT_EQ(read.size(), arrays.size());
    for (std::size_t i = 0; i < arrays.size(); ++i) {
        EXPECT_EQ(read[i].first, arrays[i].first);
        EXPECT_EQ(read[i].second.dtype, arrays[i].second.dtype);
        EXPECT_EQ(read[i].second.shape, arrays[i].second.shape);
        EXPECT_EQ(read[i].second.bytes, arrays[i].second.bytes);
    }
    EXPECT_EQ(member(read, "title").toString(), "Fovea \u2713");
    EXPECT_EQ(member(read, "half").toFloats(), std::vector<float>{1.0f});

    // Deterministic output, and an empty archive is valid too.
    const std::string first = readBytes(path);
    fovea::writeNpz(path, arrays);
    EXPECT_EQ(readBytes(path), first);
    fovea::writeNpz(pathOf("none.npz"), {});
    EXPECT_TRUE(fovea::readNpz(pathOf("none.npz")).empty());
    EXPECT_EQ(std::distance(fs::directory_iterator(m_dir), fs::directory_iterator()), 2);
}

TEST_F(NpyTest, WritersRejectInconsistentArrays) {
    EXPECT_THROW(fovea::writeNpy(pathOf("bad.npy"), arrayOf("<f4", {2}, {1, 2, 3})), fovea::Error);
    EXPECT_THROW(fovea::writeNpy(pathOf("bad.npy"), arrayOf(">f4", {1}, {1, 2, 3, 4})),
                 fovea::Error);
    const NpyArray one = NpyArray::fromFloats({1}, {1.0f});
    EXPECT_THROW(fovea::writeNpz(pathOf("bad.npz"), {{"a", one}, {"a", one}}), fovea::Error);
    EXPECT_THROW(fovea::writeNpz(pathOf("bad.npz"), {{"", one}}), fovea::Error);
    EXPECT_FALSE(fs::exists(pathOf("bad.npy")));
    EXPECT_FALSE(fs::exists(pathOf("bad.npz")));
}

// ---- Malformed .npy: one test each ---------------------------------------------------------

TEST_F(NpyTest, RejectsMissingFile) {
    expectNpyError(pathOf("absent.npy"), {"cannot open"});
}

TEST_F(NpyTest, RejectsBadMagic) {
    writeBytes(pathOf("magic.npy"), "PK\x03\x04 definitely not numpy");
    expectNpyError(pathOf("magic.npy"), {"magic"});
}

TEST_F(NpyTest, RejectsTruncatedPreamble) {
    writeBytes(pathOf("preamble.npy"), std::string("\x93NUMPY\x01", 7));
    expectNpyError(pathOf("preamble.npy"), {"truncated"});
}

TEST_F(NpyTest, RejectsUnsupportedVersion) {
    writeBytes(pathOf("version.npy"), std::string("\x93NUMPY\x04\x00\x10\x00{}", 12));
    expectNpyError(pathOf("version.npy"), {"version 4.0"});
}

TEST_F(NpyTest, RejectsTruncatedHeader) {
    const std::string image =
        npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", "abcd");
    writeBytes(pathOf("header.npy"), image.substr(0, 40));
    expectNpyError(pathOf("header.npy"), {"truncated", "header"});
}

TEST_F(NpyTest, RejectsHeaderThatIsNotADict) {
    writeBytes(pathOf("list.npy"), npyWithHeader("['<f4', False, (1,)]", "abcd"));
    expectNpyError(pathOf("list.npy"), {"malformed header", "'{'"});
}

TEST_F(NpyTest, RejectsHeaderMissingShape) {
    writeBytes(pathOf("no_shape.npy"),
               npyWithHeader("{'descr': '<f4', 'fortran_order': False}", "abcd"));
    expectNpyError(pathOf("no_shape.npy"), {"lacks 'shape'"});
}

TEST_F(NpyTest, RejectsHeaderWithUnexpectedKey) {
    writeBytes(
        pathOf("extra_key.npy"),
        npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", "abcd"));
    expectNpyError(pathOf("extra_key.npy"), {"unexpected key 'x'"});
}

TEST_F(NpyTest, RejectsNegativeShape) {
    writeBytes(pathOf("negative.npy"),
               npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", "abcd"));
    expectNpyError(pathOf("negative.npy"), {"shape entry", "non-negative"});
}

TEST_F(NpyTest, RejectsUnsupportedDtype) {
    writeBytes(pathOf("big_endian.npy"),
               npyWithHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", "abcd"));
    expectNpyError(pathOf("big_endian.npy"), {"unsupported dtype '>f4'"});
    writeBytes(
        pathOf("complex.npy"),
        npyWithHeader("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", "abcdefgh"));
    expectNpyError(pathOf("complex.npy"), {"unsupported dtype '<c8'"});
    writeBytes(
        pathOf("empty_strings.npy"),
        npyWithHeader("{'descr': '<U0', 'fortran_order': False, 'shape': (1000000000000,), }", ""));
    expectNpyError(pathOf("empty_strings.npy"), {"unsupported dtype '<U0'"});
}

TEST_F(NpyTest, RejectsStructuredDtype) {
    writeBytes(pathOf("structured.npy"),
               npyWithHeader("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,), }",
                             "abcd"));
    expectNpyError(pathOf("structured.npy"), {"structured"});
}

TEST_F(NpyTest, RejectsFortranOrderMatrix) {
    writeBytes(pathOf("fortran.npy"),
               npyWithHeader("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2), }", "abcd"));
    expectNpyError(pathOf("fortran.npy"), {"Fortran"});
}

TEST_F(NpyTest, RejectsDataShorterThanShape) {
    writeBytes(pathOf("short_data.npy"),
               npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                             "only 12 byte"));
    expectNpyError(pathOf("short_data.npy"), {"truncated", "12 bytes", "24 bytes"});
}

TEST_F(NpyTest, RejectsShapeOverflow) {
    writeBytes(
        pathOf("overflow.npy"),
        npyWithHeader(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", ""));
    expectNpyError(pathOf("overflow.npy"), {"overflows"});
}

// ---- Malformed .npz: one test each ---------------------------------------------------------

class NpzCorruptionTest : public NpyTest {
  protected:
    // A valid STORED archive with one member, "weights.npy", and the offsets of its parts.
    void SetUp() override {
        NpyTest::SetUp();
        fovea::writeNpz(pathOf("valid.npz"),
                        {{"weights", NpyArray::fromFloats({4}, {1, 2, 3, 4})}});
        m_archive = readBytes(pathOf("valid.npz"));
        m_directory = readLittleEndian32(m_archive, m_archive.size() - 22 + 16);
    }
    std::string writeArchive(const std::string& name) const {
        writeBytes(pathOf(name), m_archive);
        return pathOf(name);
    }

    static constexpr std::size_t kMemberData = 30 + 11;  // local header + "weights.npy"
    std::string m_archive;
    std::size_t m_directory = 0;
};

TEST_F(NpzCorruptionTest, RejectsFileThatIsNotAZip) {
    m_archive = "this is not a zip archive, just some text long enough";
    expectNpzError(writeArchive("text.npz"), {"not a zip archive"});
}

TEST_F(NpzCorruptionTest, RejectsTruncatedArchive) {
    m_archive.resize(m_archive.size() - 10);  // cuts the end record
    expectNpzError(writeArchive("truncated.npz"), {"not a zip archive"});
}

TEST_F(NpzCorruptionTest, RejectsCentralDirectoryPastEnd) {
    writeLittleEndian32(m_archive, m_archive.size() - 22 + 16, 1u << 30);
    expectNpzError(writeArchive("directory.npz"), {"corrupt zip", "central directory"});
}

TEST_F(NpzCorruptionTest, RejectsBadLocalHeader) {
    m_archive[0] = 'X';
    expectNpzError(writeArchive("local.npz"), {"weights.npy", "local header"});
}

TEST_F(NpzCorruptionTest, RejectsCrcMismatch) {
    m_archive[m_directory - 1] ^= 0x40;  // the last byte of the member's float data
    expectNpzError(writeArchive("crc.npz"), {"weights.npy", "CRC-32 mismatch"});
}

TEST_F(NpzCorruptionTest, RejectsUnsupportedCompressionMethod) {
    m_archive[8] = 12;                 // bzip2, in the local header
    m_archive[m_directory + 10] = 12;  // and in the central directory
    expectNpzError(writeArchive("bzip2.npz"), {"weights.npy", "compression method 12"});
}

TEST_F(NpzCorruptionTest, RejectsMemberDataPastEnd) {
    writeLittleEndian32(m_archive, m_directory + 20, 1u << 20);  // compressed size
    writeLittleEndian32(m_archive, m_directory + 24, 1u << 20);
    expectNpzError(writeArchive("member_size.npz"), {"weights.npy", "truncated"});
}

TEST_F(NpzCorruptionTest, RejectsMalformedMember) {
    // A broken .npy inside an archive whose CRC is right: the error names the member.
    m_archive.replace(kMemberData, 6, "NOTNPY");
    const std::uint32_t size = readLittleEndian32(m_archive, m_directory + 24);
    const std::uint32_t crc = crc32Of(m_archive.substr(kMemberData, size));
    writeLittleEndian32(m_archive, 14, crc);
    writeLittleEndian32(m_archive, m_directory + 16, crc);
    expectNpzError(writeArchive("member.npz"), {"member 'weights.npy'", "magic"});
}

TEST_F(NpzCorruptionTest, RejectsCorruptDeflateData) {
    m_archive = readBytes(kNpzDir + "/savez_compressed.npz");
    const std::size_t name = m_archive.find("ramp.npy");
    ASSERT_NE(name, std::string::npos);
    const std::size_t local = name - 30;
    const std::size_t data = name + 8 +
                             (static_cast<std::uint8_t>(m_archive[local + 28]) |
                              (static_cast<std::uint8_t>(m_archive[local + 29]) << 8));
    for (std::size_t i = 0; i < 16; ++i) m_archive[data + 20 + i] = static_cast<char>(0xFF - i);
    try {
        fovea::readNpz(writeArchive("deflate.npz"));
        FAIL() << "corrupt DEFLATE data accepted";
    } catch (const fovea::Error& error) {
        const std::string message = error.what();
        EXPECT_NE(message.find("deflate.npz: member 'ramp.npy'"), std::string::npos) << message;
        EXPECT_TRUE(message.find("corrupt compressed data") != std::string::npos ||
                    message.find("CRC-32") != std::string::npos ||
                    message.find("inflates to") != std::string::npos)
            << message;
    }
}

TEST_F(NpzCorruptionTest, RejectsDeclaredSizeDeflateCannotReach) {
    // A hostile size must not make the reader allocate gigabytes before noticing.
    m_archive = readBytes(kNpzDir + "/savez_compressed.npz");
    const std::size_t directory = readLittleEndian32(m_archive, m_archive.size() - 22 + 16);
    ASSERT_EQ(m_archive.substr(directory + 46, 10), "floats.npy");
    writeLittleEndian32(m_archive, directory + 24, 0xFFFFFFF0u);
    expectNpzError(writeArchive("bomb.npz"), {"floats.npy", "declares 4294967280"});
}

TEST_F(NpzCorruptionTest, RejectsTruncatedDeflateStream) {
    m_archive = readBytes(kNpzDir + "/savez_compressed.npz");
    const std::size_t directory = readLittleEndian32(m_archive, m_archive.size() - 22 + 16);
    ASSERT_EQ(m_archive.substr(directory + 46, 10), "floats.npy");
    const std::uint32_t compressed = readLittleEndian32(m_archive, directory + 20);
    writeLittleEndian32(m_archive, directory + 20, compressed / 2);
    expectNpzError(writeArchive("short_deflate.npz"), {"floats.npy", "truncated"});
}

// ---- Cross-check with numpy itself ---------------------------------------------------------

TEST_F(NpyTest, NumpyReadsWhatWeWrite) {
    if (!pythonWithNumpy()) GTEST_SKIP() << kPython << " with numpy is not available";
    fovea::writeNpy(pathOf("floats.npy"), NpyArray::fromFloats({2, 3}, {0, 0.5f, -1, 2, 1e-3f, 6}));
    fovea::writeNpy(pathOf("scalar.npy"), NpyArray::fromString("h\u00e9llo \U0001F600"));
    fovea::writeNpz(pathOf("archive.npz"), {{"ints", NpyArray::fromInt64s({3}, {-5, 0, 1ll << 40})},
                                            {"names", NpyArray::fromStrings({2}, {"cls", "patch"})},
                                            {"half", arrayOf("<f2", {2}, {0x00, 0x3C, 0x00, 0xC0})},
                                            {"mask", arrayOf("|b1", {2}, {1, 0})},
                                            {"empty", NpyArray::fromFloats({0, 4}, {})}});
    const std::string script = pathOf("check.py");
    writeBytes(script, R"(import sys, numpy as np
d = sys.argv[1]
a = np.load(d + '/floats.npy')
assert a.dtype == np.float32 and a.shape == (2, 3), a
assert np.array_equal(a, np.array([[0, 0.5, -1], [2, 1e-3, 6]], dtype=np.float32)), a
s = np.load(d + '/scalar.npy')
assert s.shape == () and str(s) == 'h\u00e9llo \U0001F600', repr(s)
z = np.load(d + '/archive.npz')
assert list(z.keys()) == ['ints', 'names', 'half', 'mask', 'empty'], list(z.keys())
assert z['ints'].tolist() == [-5, 0, 2 ** 40]
assert z['names'].tolist() == ['cls', 'patch']
assert z['half'].dtype == np.float16 and z['half'].tolist() == [1.0, -2.0]
assert z['mask'].dtype == np.bool_ and z['mask'].tolist() == [True, False]
assert z['empty'].shape == (0, 4)
)");
    EXPECT_EQ(std::system((kPython + " " + script + " " + m_dir.string()).c_str()), 0);
}

TEST_F(NpyTest, WeReadWhatNumpyWrites) {
    if (!pythonWithNumpy()) GTEST_SKIP() << kPython << " with numpy is not available";
    const std::string script = pathOf("write.py");
    writeBytes(script, R"(import sys, numpy as np
d = sys.argv[1]
np.save(d + '/matrix.npy', np.arange(6, dtype=np.float64).reshape(2, 3) / 4)
np.save(d + '/text.npy', np.array('\u00e9t\u00e9'))
arrays = dict(i32=np.array([[-1, 2]], dtype=np.int32), u8=np.arange(5, dtype=np.uint8),
              f16=np.array([0.5, 65504], dtype=np.float16), flags=np.array([False, True]),
              zero=np.float32(7.5), nothing=np.zeros((3, 0), dtype=np.int64))
np.savez(d + '/stored.npz', **arrays)
np.savez_compressed(d + '/deflated.npz', **arrays)
)");
    ASSERT_EQ(std::system((kPython + " " + script + " " + m_dir.string()).c_str()), 0);
    EXPECT_EQ(fovea::readNpy(pathOf("matrix.npy")).toFloats(),
              (std::vector<float>{0, 0.25f, 0.5f, 0.75f, 1, 1.25f}));
    EXPECT_EQ(fovea::readNpy(pathOf("text.npy")).toString(), "\u00e9t\u00e9");
    for (const std::string archive : {"stored.npz", "deflated.npz"}) {
        const auto arrays = fovea::readNpz(pathOf(archive));
        ASSERT_EQ(arrays.size(), 6u) << archive;
        EXPECT_EQ(member(arrays, "i32").shape, (std::vector<std::int64_t>{1, 2}));
        EXPECT_EQ(member(arrays, "i32").toInt64s(), (std::vector<std::int64_t>{-1, 2}));
        EXPECT_EQ(member(arrays, "u8").toInt64s(), (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
        EXPECT_EQ(member(arrays, "f16").toFloats(), (std::vector<float>{0.5f, 65504.0f}));
        EXPECT_EQ(member(arrays, "flags").toInt64s(), (std::vector<std::int64_t>{0, 1}));
        EXPECT_EQ(member(arrays, "zero").toFloats(), std::vector<float>{7.5f});
        EXPECT_EQ(member(arrays, "nothing").shape, (std::vector<std::int64_t>{3, 0}));
    }
}

// ---- json_file ----------------------------------------------------------------------------

TEST_F(NpyTest, JsonFileReadsAndWritesAtomically) {
    const nlohmann::json config = fovea::readJsonFile(kModelDir + "/config.json");
    EXPECT_EQ(config.at("num_classes"), 5);
    const std::string path = pathOf("copy.json");
    fovea::writeJsonFile(path, config);
    EXPECT_EQ(fovea::readJsonFile(path), config);
    EXPECT_EQ(readBytes(path).back(), '\n');
    EXPECT_NE(readBytes(path).find("\n  \"architecture\""), std::string::npos);  // indent 2

    // A writer that throws leaves the old file in place and no temporary file behind.
    EXPECT_THROW(fovea::writeFileAtomically(path,
                                            [](std::ostream& out) {
                                                out << "partial";
                                                throw fovea::Error("test", "stop");
                                            }),
                 fovea::Error);
    EXPECT_EQ(fovea::readJsonFile(path), config);
    EXPECT_EQ(std::distance(fs::directory_iterator(m_dir), fs::directory_iterator()), 1);
}

TEST_F(NpyTest, JsonFileNamesFileAndPositionOfParseErrors) {
    writeBytes(pathOf("broken.json"), "{\n  \"a\": 1,\n  \"b\": ]\n}\n");
    expectError(pathOf("broken.json"), {"invalid JSON", "line 3, column"},
                [](const std::string& file) { fovea::readJsonFile(file); });
    expectError(pathOf("missing.json"), {"cannot open"},
                [](const std::string& file) { fovea::readJsonFile(file); });
    expectError(pathOf("invalid_utf8.json"), {"cannot serialize"}, [](const std::string& file) {
        fovea::writeJsonFile(file, nlohmann::json{{"name", "\xff"}});
    });
    EXPECT_FALSE(fs::exists(pathOf("invalid_utf8.json")));
}
