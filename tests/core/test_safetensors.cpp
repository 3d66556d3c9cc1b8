// Tests of core/io/safetensors: the real fixture, write/read round trips, float16 and bfloat16
// conversion, and one test per kind of hostile file.
#include "core/io/safetensors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

#include "core/util/error.h"

namespace fs = std::filesystem;
using fovea::DType;
using fovea::SafetensorsFile;

namespace {

const std::string kFixture = FOVEA_TEST_DATA_DIR "/models/timm-vit-tiny/model.safetensors";

std::string readBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::uint64_t headerLengthOf(const std::string& bytes) {
    std::uint64_t length = 0;
    for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<std::uint8_t>(bytes[i]);
    return length;
}

std::string lengthPrefix(std::uint64_t length) {
    std::string out;
    for (int i = 0; i < 8; ++i) out += static_cast<char>((length >> (8 * i)) & 0xFF);
    return out;
}

class SafetensorsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        m_dir = fs::temp_directory_path() /
                ("fovea_test_safetensors_" + std::to_string(::getpid()) + "_" + info->name());
        fs::remove_all(m_dir);
        fs::create_directories(m_dir);
        const std::string fixture = readBytes(kFixture);
        ASSERT_GT(fixture.size(), 8u);
        const std::uint64_t length = headerLengthOf(fixture);
        m_header = nlohmann::json::parse(fixture.substr(8, length));
        m_buffer = fixture.substr(8 + length);
    }
    void TearDown() override { fs::remove_all(m_dir); }

    std::string pathOf(const std::string& name) const { return (m_dir / name).string(); }

    std::string writeRaw(const std::string& name, const std::string& bytes) const {
        std::ofstream(pathOf(name), std::ios::binary) << bytes;
        return pathOf(name);
    }
    // A file with the given header text and the fixture's data buffer.
    std::string writeWithHeaderText(const std::string& name, const std::string& header) const {
        return writeRaw(name, lengthPrefix(header.size()) + header + m_buffer);
    }
    std::string writeWithHeader(const std::string& name, const nlohmann::json& header) const {
        return writeWithHeaderText(name, header.dump());
    }

    // open() must throw a one-line fovea::Error naming the file and containing every word.
    static void expectOpenError(const std::string& path, const std::vector<std::string>& words) {
        try {
            SafetensorsFile::open(path);
            ADD_FAILURE() << "open() accepted " << path;
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

    fs::path m_dir;
    nlohmann::json m_header;
    std::string m_buffer;
};

std::vector<std::uint8_t> randomBytes(std::size_t count, unsigned seed) {
    std::mt19937 generator(seed);
    std::vector<std::uint8_t> bytes(count);
    for (auto& byte : bytes) byte = static_cast<std::uint8_t>(generator());
    return bytes;
}

std::vector<std::uint8_t> bytesOf(const std::vector<float>& values) {
    std::vector<std::uint8_t> bytes(values.size() * 4);
    std::memcpy(bytes.data(), values.data(), bytes.size());
    return bytes;
}

// The value of a binary16 pattern computed from its definition, independently of halfToFloat.
double halfByDefinition(std::uint16_t half) {
    const int sign = (half >> 15) ? -1 : 1;
    const int exponent = (half >> 10) & 0x1F;
    const int mantissa = half & 0x3FF;
    if (exponent == 0) return sign * std::ldexp(mantissa, -24);
    if (exponent == 31) return mantissa ? std::nan("") : sign * HUGE_VAL;
    return sign * std::ldexp(1024 + mantissa, exponent - 25);
}

}  // namespace

TEST_F(SafetensorsTest, ReadsTimmFixture) {
    const SafetensorsFile file = SafetensorsFile::open(kFixture);
    EXPECT_EQ(file.path(), kFixture);
    EXPECT_EQ(file.tensors().size(), m_header.size() - 1);
    EXPECT_EQ(file.metadata().at("format"), "pt");

    const fovea::TensorView& positions = file.at("pos_embed");
    EXPECT_EQ(positions.dtype, DType::F32);
    EXPECT_EQ(positions.shape, (std::vector<std::int64_t>{1, 17, 48}));
    EXPECT_EQ(positions.elementCount(), 17 * 48);
    EXPECT_EQ(positions.byteSize, 17u * 48u * 4u);
    const fovea::TensorView* qkv = file.find("blocks.0.attn.qkv.weight");
    ASSERT_NE(qkv, nullptr);
    EXPECT_EQ(qkv->shape, (std::vector<std::int64_t>{144, 48}));
    EXPECT_EQ(file.find("no.such.tensor"), nullptr);

    // Ordered by offset, and each view holds exactly the bytes the header points at.
    for (std::size_t i = 0; i < file.tensors().size(); ++i) {
        const fovea::TensorView& view = file.tensors()[i];
        if (i > 0) {
            EXPECT_LE(file.tensors()[i - 1].data, view.data);
        }
        const auto begin = m_header[view.name]["data_offsets"][0].get<std::size_t>();
        EXPECT_EQ(std::memcmp(view.data, m_buffer.data() + begin, view.byteSize), 0) << view.name;
    }
    const std::vector<float> values = fovea::toFloatVector(positions);
    ASSERT_EQ(values.size(), 17u * 48u);
    for (const float value : values) EXPECT_TRUE(std::isfinite(value) && std::fabs(value) < 100);
}

TEST_F(SafetensorsTest, ReadsHuggingFaceFixture) {
    const SafetensorsFile file =
        SafetensorsFile::open(FOVEA_TEST_DATA_DIR "/models/hf-vit-tiny/model.safetensors");
    ASSERT_FALSE(file.tensors().empty());
    std::size_t bytes = 0;
    for (const fovea::TensorView& view : file.tensors()) {
        EXPECT_EQ(view.byteSize, view.elementCount() * fovea::dtypeSize(view.dtype)) << view.name;
        for (const float value : fovea::toFloatVector(view)) {
            ASSERT_TRUE(std::isfinite(value)) << view.name;
        }
        bytes += view.byteSize;
    }
    EXPECT_LE(bytes, fs::file_size(FOVEA_TEST_DATA_DIR "/models/hf-vit-tiny/model.safetensors"));
}

TEST_F(SafetensorsTest, AtNamesFileAndTensorWhenAbsent) {
    const SafetensorsFile file = SafetensorsFile::open(kFixture);
    try {
        file.at("blocks.9.missing");
        FAIL() << "at() returned for a missing tensor";
    } catch (const fovea::Error& error) {
        EXPECT_NE(std::string(error.what()).find("model.safetensors"), std::string::npos);
        EXPECT_NE(std::string(error.what()).find("blocks.9.missing"), std::string::npos);
    }
}

TEST_F(SafetensorsTest, MovedFileKeepsItsViews) {
    SafetensorsFile first = SafetensorsFile::open(kFixture);
    const std::uint8_t* data = first.at("pos_embed").data;
    SafetensorsFile second = std::move(first);
    EXPECT_EQ(second.at("pos_embed").data, data);
    SafetensorsFile third = SafetensorsFile::open(kFixture);
    third = std::move(second);
    EXPECT_EQ(third.at("pos_embed").data, data);
    EXPECT_EQ(third.at("pos_embed").shape, (std::vector<std::int64_t>{1, 17, 48}));
}

TEST_F(SafetensorsTest, RoundTripsEveryDtype) {
    std::vector<fovea::TensorData> tensors;
    const DType dtypes[] = {DType::F32, DType::F16, DType::BF16, DType::F64,
                            DType::I64, DType::I32, DType::U8,   DType::Bool};
    unsigned seed = 1;
    for (const DType dtype : dtypes) {
        const std::string name = std::string("layer.") + fovea::dtypeName(dtype);
        tensors.push_back({name, dtype, {3, 5}, randomBytes(15 * fovea::dtypeSize(dtype), seed++)});
        tensors.push_back(
            {name + ".scalar", dtype, {}, randomBytes(fovea::dtypeSize(dtype), seed++)});
        tensors.push_back({name + ".empty", dtype, {0, 4}, {}});
    }
    const std::map<std::string, std::string> metadata{{"format", "pt"}, {"note", "caf\u00e9"}};
    const std::string path = pathOf("round_trip.safetensors");
    fovea::writeSafetensors(path, tensors, metadata);

    const SafetensorsFile file = SafetensorsFile::open(path);
    EXPECT_EQ(file.metadata(), metadata);
    ASSERT_EQ(file.tensors().size(), tensors.size());
    for (const fovea::TensorData& expected : tensors) {
        const fovea::TensorView& view = file.at(expected.name);
        EXPECT_EQ(view.dtype, expected.dtype) << expected.name;
        EXPECT_EQ(view.shape, expected.shape) << expected.name;
        ASSERT_EQ(view.byteSize, expected.bytes.size()) << expected.name;
        if (view.byteSize > 0) {
            EXPECT_EQ(std::memcmp(view.data, expected.bytes.data(), view.byteSize), 0);
            // Larger types come first in the buffer, so every tensor is naturally aligned.
            EXPECT_EQ(reinterpret_cast<std::uintptr_t>(view.data) % fovea::dtypeSize(view.dtype),
                      0u)
                << expected.name;
        }
    }

    // Header: length a multiple of 8, padded with spaces, keys sorted.
    const std::string bytes = readBytes(path);
    const std::uint64_t length = headerLengthOf(bytes);
    EXPECT_EQ(length % 8, 0u);
    const std::string header = bytes.substr(8, length);
    EXPECT_EQ(header.find_last_not_of(' '), header.rfind('}'));
    std::vector<std::string> keys;
    const nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(header);
    for (const auto& item : parsed.items()) keys.push_back(item.key());
    EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
    EXPECT_EQ(keys.front(), "__metadata__");

    // Writing again replaces the file atomically and leaves no temporary file behind.
    fovea::writeSafetensors(path, {tensors.front()});
    EXPECT_EQ(SafetensorsFile::open(path).tensors().size(), 1u);
    EXPECT_TRUE(SafetensorsFile::open(path).metadata().empty());
    EXPECT_EQ(std::distance(fs::directory_iterator(m_dir), fs::directory_iterator()), 1);
}

TEST_F(SafetensorsTest, EmptyFileHasNoTensors) {
    const std::string path = pathOf("empty.safetensors");
    fovea::writeSafetensors(path, {});
    EXPECT_TRUE(SafetensorsFile::open(path).tensors().empty());
    EXPECT_EQ(readBytes(path).size(), 16u);  // length + "{}" padded to 8
}

TEST_F(SafetensorsTest, WriterRejectsInconsistentTensors) {
    const std::string path = pathOf("rejected.safetensors");
    const auto expectWriteError = [&](const std::vector<fovea::TensorData>& tensors,
                                      const std::string& word) {
        try {
            fovea::writeSafetensors(path, tensors);
            ADD_FAILURE() << "writer accepted tensors (" << word << ")";
        } catch (const fovea::Error& error) {
            EXPECT_NE(std::string(error.what()).find("rejected.safetensors"), std::string::npos);
            EXPECT_NE(std::string(error.what()).find(word), std::string::npos) << error.what();
        }
    };
    expectWriteError({{"short", DType::F32, {2, 2}, std::vector<std::uint8_t>(12)}}, "short");
    expectWriteError({{"twice", DType::U8, {1}, {1}}, {"twice", DType::U8, {1}, {2}}}, "twice");
    expectWriteError({{"__metadata__", DType::U8, {1}, {1}}}, "reserved");
    expectWriteError({{"negative", DType::U8, {-1}, {}}}, "negative");
    EXPECT_FALSE(fs::exists(path));
    EXPECT_THROW(fovea::writeSafetensors(pathOf("no/such/dir/x.safetensors"), {}), fovea::Error);
}

TEST_F(SafetensorsTest, ToFloatVectorConvertsEachDtype) {
    const std::string path = pathOf("convert.safetensors");
    const std::vector<std::uint8_t> halves{0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00};  // 1, -2, 2^-24
    const std::vector<std::uint8_t> bfloats{0x80, 0x3F, 0x00, 0xC0};             // 1, -2
    std::vector<std::uint8_t> int64s(16);
    const std::int64_t int64Values[] = {-7, 1 << 20};
    std::memcpy(int64s.data(), int64Values, 16);
    fovea::writeSafetensors(path, {{"h", DType::F16, {3}, halves},
                                   {"b", DType::BF16, {2}, bfloats},
                                   {"i", DType::I64, {2}, int64s},
                                   {"m", DType::Bool, {2}, {0, 1}},
                                   {"f", DType::F32, {2}, bytesOf({0.5f, -4.0f})}});
    const SafetensorsFile file = SafetensorsFile::open(path);
    EXPECT_EQ(fovea::toFloatVector(file.at("h")),
              (std::vector<float>{1, -2, std::ldexp(1.f, -24)}));
    EXPECT_EQ(fovea::toFloatVector(file.at("b")), (std::vector<float>{1, -2}));
    EXPECT_EQ(fovea::toFloatVector(file.at("i")), (std::vector<float>{-7, 1 << 20}));
    EXPECT_EQ(fovea::toFloatVector(file.at("m")), (std::vector<float>{0, 1}));
    EXPECT_EQ(fovea::toFloatVector(file.at("f")), (std::vector<float>{0.5f, -4.0f}));
}

TEST(HalfConversion, KnownBitPatterns) {
    EXPECT_EQ(fovea::floatToHalf(1.0f), 0x3C00);
    EXPECT_EQ(fovea::floatToHalf(-2.0f), 0xC000);
    EXPECT_EQ(fovea::floatToHalf(65504.0f), 0x7BFF);
    EXPECT_EQ(fovea::floatToHalf(std::ldexp(1.0f, -24)), 0x0001);     // smallest subnormal
    EXPECT_EQ(fovea::floatToHalf(std::ldexp(1023.0f, -24)), 0x03FF);  // largest subnormal
    EXPECT_EQ(fovea::floatToHalf(std::ldexp(1.0f, -14)), 0x0400);     // smallest normal
    EXPECT_EQ(fovea::floatToHalf(-0.0f), 0x8000);
    EXPECT_EQ(fovea::floatToHalf(HUGE_VALF), 0x7C00);
    EXPECT_EQ(fovea::floatToHalf(-HUGE_VALF), 0xFC00);
    EXPECT_EQ(fovea::floatToHalf(1e6f), 0x7C00);                   // overflow
    EXPECT_EQ(fovea::floatToHalf(std::ldexp(1.0f, -30)), 0x0000);  // underflow
    const std::uint16_t nan = fovea::floatToHalf(std::numeric_limits<float>::quiet_NaN());
    EXPECT_EQ(nan & 0x7C00, 0x7C00);
    EXPECT_NE(nan & 0x03FF, 0);

    EXPECT_EQ(fovea::halfToFloat(0x3C00), 1.0f);
    EXPECT_EQ(fovea::halfToFloat(0xC000), -2.0f);
    EXPECT_EQ(fovea::halfToFloat(0x7BFF), 65504.0f);
    EXPECT_EQ(fovea::halfToFloat(0x0001), std::ldexp(1.0f, -24));
    EXPECT_EQ(fovea::halfToFloat(0x8001), -std::ldexp(1.0f, -24));
    EXPECT_EQ(fovea::halfToFloat(0x7C00), HUGE_VALF);
    EXPECT_EQ(fovea::halfToFloat(0xFC00), -HUGE_VALF);
    EXPECT_TRUE(std::isnan(fovea::halfToFloat(0x7E00)));
    EXPECT_TRUE(std::isnan(fovea::halfToFloat(0x7C01)));  // signalling NaN stays a NaN
    EXPECT_TRUE(std::signbit(fovea::halfToFloat(0x8000)));
}

TEST(HalfConversion, RoundsTiesToEven) {
    // Halfway between 1 (0x3C00, even) and the next half: down. 1 + 3 ulp/2: up to 0x3C02.
    EXPECT_EQ(fovea::floatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3C00);
    EXPECT_EQ(fovea::floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);
    EXPECT_EQ(fovea::floatToHalf(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), 0x3C01);
    EXPECT_EQ(fovea::floatToHalf(65519.0f), 0x7BFF);
    EXPECT_EQ(fovea::floatToHalf(65520.0f), 0x7C00);  // the tie above 65504 rounds to infinity
    // Subnormal ties: 2^-25 is halfway between 0 and 2^-24; 3 * 2^-25 between 1 and 2 units.
    EXPECT_EQ(fovea::floatToHalf(std::ldexp(1.0f, -25)), 0x0000);
    EXPECT_EQ(fovea::floatToHalf(std::ldexp(1.0f, -25) * 1.0001f), 0x0001);
    EXPECT_EQ(fovea::floatToHalf(std::ldexp(3.0f, -25)), 0x0002);
    EXPECT_EQ(fovea::floatToHalf(std::ldexp(5.0f, -25)), 0x0002);
    // Rounding up out of the subnormal range gives the smallest normal.
    EXPECT_EQ(fovea::floatToHalf(std::ldexp(2047.0f, -25)), 0x0400);
}

TEST(HalfConversion, EveryHalfMatchesItsDefinitionAndRoundTrips) {
    for (std::uint32_t bits = 0; bits <= 0xFFFF; ++bits) {
        const auto half = static_cast<std::uint16_t>(bits);
        const float value = fovea::halfToFloat(half);
        const double expected = halfByDefinition(half);
        if (std::isnan(expected)) {
            ASSERT_TRUE(std::isnan(value)) << std::hex << bits;
            ASSERT_TRUE(std::isnan(fovea::halfToFloat(fovea::floatToHalf(value))));
            continue;
        }
        ASSERT_EQ(static_cast<double>(value), expected) << std::hex << bits;
        ASSERT_EQ(fovea::floatToHalf(value), half) << std::hex << bits;
    }
}

TEST(HalfConversion, FloatToHalfPicksTheNearestHalf) {
    // A sweep over positive finite floats: no neighbour of the result is nearer, and ties go to
    // the even pattern.
    for (std::uint32_t bits = 0; bits < 0x477FF000u; bits += 997) {
        float value = 0;
        std::memcpy(&value, &bits, 4);
        const std::uint16_t half = fovea::floatToHalf(value);
        const double distance = std::fabs(value - halfByDefinition(half));
        for (const int step : {-1, 1}) {
            const int neighbour = half + step;
            if (neighbour < 0 || neighbour > 0x7BFF) continue;
            const double other =
                std::fabs(value - halfByDefinition(static_cast<std::uint16_t>(neighbour)));
            ASSERT_LE(distance, other) << std::hex << bits;
            if (distance == other) {
                ASSERT_EQ(half % 2, 0) << std::hex << bits;
            }
        }
    }
}

TEST(Bfloat16Conversion, KnownBitPatterns) {
    EXPECT_EQ(fovea::floatToBfloat16(1.0f), 0x3F80);
    EXPECT_EQ(fovea::floatToBfloat16(-2.0f), 0xC000);
    EXPECT_EQ(fovea::floatToBfloat16(HUGE_VALF), 0x7F80);
    EXPECT_EQ(fovea::bfloat16ToFloat(0x0001), std::ldexp(1.0f, -133));  // smallest subnormal
    EXPECT_EQ(fovea::floatToBfloat16(std::ldexp(1.0f, -133)), 0x0001);
    EXPECT_EQ(fovea::bfloat16ToFloat(0x3F80), 1.0f);
    EXPECT_EQ(fovea::bfloat16ToFloat(0xFF80), -HUGE_VALF);
    EXPECT_TRUE(std::isnan(fovea::bfloat16ToFloat(fovea::floatToBfloat16(std::nanf("")))));
    // A NaN whose payload lives only in the low 16 bits must not become infinity.
    float lowPayloadNan = 0;
    const std::uint32_t lowPayloadBits = 0x7F800001u;
    std::memcpy(&lowPayloadNan, &lowPayloadBits, 4);
    EXPECT_TRUE(std::isnan(fovea::bfloat16ToFloat(fovea::floatToBfloat16(lowPayloadNan))));
    // Ties to even: 1 + 2^-8 lies halfway between 0x3F80 and 0x3F81, 1 + 3 * 2^-8 between
    // 0x3F81 and 0x3F82.
    EXPECT_EQ(fovea::floatToBfloat16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);
    EXPECT_EQ(fovea::floatToBfloat16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);
    EXPECT_EQ(fovea::floatToBfloat16(std::numeric_limits<float>::max()), 0x7F80);
}

// ---- Hostile files: one test each ----------------------------------------------------------

TEST_F(SafetensorsTest, RejectsMissingFile) {
    expectOpenError(pathOf("absent.safetensors"), {"cannot open"});
}

TEST_F(SafetensorsTest, RejectsDirectory) {
    fs::create_directory(pathOf("folder.safetensors"));
    expectOpenError(pathOf("folder.safetensors"), {"regular file"});
}

TEST_F(SafetensorsTest, RejectsFileShorterThanLength) {
    expectOpenError(writeRaw("short.safetensors", std::string("\x10\0\0\0\0", 5)),
                    {"5 bytes", "too short"});
}

TEST_F(SafetensorsTest, RejectsHeaderLengthPastEnd) {
    const std::string header = m_header.dump();
    const std::string path =
        writeRaw("past_end.safetensors",
                 lengthPrefix(header.size() + m_buffer.size() + 1) + header + m_buffer);
    expectOpenError(path, {"header length", "past the end"});
}

TEST_F(SafetensorsTest, RejectsAbsurdHeaderLength) {
    const std::string path = writeRaw("absurd.safetensors", lengthPrefix(1ull << 62) + "{}");
    expectOpenError(path, {"header length", "limit"});
}

TEST_F(SafetensorsTest, RejectsHeaderThatIsNotJson) {
    expectOpenError(writeWithHeaderText("not_json.safetensors", "{\"pos_embed\": {"), {"JSON"});
}

TEST_F(SafetensorsTest, RejectsHeaderWithInvalidUtf8) {
    expectOpenError(writeWithHeaderText("bad_utf8.safetensors", "{\"\xff\xfe\": {}}"), {"JSON"});
}

TEST_F(SafetensorsTest, RejectsHeaderThatIsNotAnObject) {
    expectOpenError(writeWithHeaderText("array.safetensors", "[1, 2, 3]"), {"not a JSON object"});
}

TEST_F(SafetensorsTest, RejectsDuplicateTensorName) {
    const std::string entry = m_header["cls_token"].dump();
    const std::string header = "{\"cls_token\":" + entry + ",\"cls_token\":" + entry + "}";
    expectOpenError(writeWithHeaderText("duplicate.safetensors", header), {"cls_token", "twice"});
}

TEST_F(SafetensorsTest, RejectsEntryThatIsNotAnObject) {
    m_header["pos_embed"] = 5;
    expectOpenError(writeWithHeader("entry.safetensors", m_header),
                    {"pos_embed", "not a JSON object"});
}

TEST_F(SafetensorsTest, RejectsMissingDtype) {
    m_header["pos_embed"].erase("dtype");
    expectOpenError(writeWithHeader("no_dtype.safetensors", m_header),
                    {"pos_embed", "missing 'dtype'"});
}

TEST_F(SafetensorsTest, RejectsDtypeThatIsNotAString) {
    m_header["pos_embed"]["dtype"] = 32;
    expectOpenError(writeWithHeader("dtype_type.safetensors", m_header), {"pos_embed", "'dtype'"});
}

TEST_F(SafetensorsTest, RejectsUnknownDtype) {
    m_header["pos_embed"]["dtype"] = "I16";
    expectOpenError(writeWithHeader("unknown_dtype.safetensors", m_header),
                    {"pos_embed", "unsupported dtype 'I16'"});
}

TEST_F(SafetensorsTest, RejectsMissingShape) {
    m_header["pos_embed"].erase("shape");
    expectOpenError(writeWithHeader("no_shape.safetensors", m_header),
                    {"pos_embed", "missing 'shape'"});
}

TEST_F(SafetensorsTest, RejectsShapeThatIsNotAnArray) {
    m_header["pos_embed"]["shape"] = "1x17x48";
    expectOpenError(writeWithHeader("shape_type.safetensors", m_header), {"pos_embed", "'shape'"});
}

TEST_F(SafetensorsTest, RejectsNegativeShapeEntry) {
    m_header["pos_embed"]["shape"] = {1, -17, 48};
    expectOpenError(writeWithHeader("negative.safetensors", m_header),
                    {"pos_embed", "-17", "negative"});
}

TEST_F(SafetensorsTest, RejectsNonIntegerShapeEntry) {
    m_header["pos_embed"]["shape"] = {1, 17.5, 48};
    expectOpenError(writeWithHeader("fraction.safetensors", m_header),
                    {"pos_embed", "not an integer"});
}

TEST_F(SafetensorsTest, RejectsShapeProductOverflow) {
    m_header["pos_embed"]["shape"] = {1ll << 40, 1ll << 40, 48};
    expectOpenError(writeWithHeader("overflow.safetensors", m_header), {"pos_embed", "overflows"});
}

TEST_F(SafetensorsTest, RejectsMissingDataOffsets) {
    m_header["pos_embed"].erase("data_offsets");
    expectOpenError(writeWithHeader("no_offsets.safetensors", m_header),
                    {"pos_embed", "missing 'data_offsets'"});
}

TEST_F(SafetensorsTest, RejectsIllTypedDataOffsets) {
    m_header["pos_embed"]["data_offsets"] = {"192", 3456};
    expectOpenError(writeWithHeader("offsets_type.safetensors", m_header),
                    {"pos_embed", "'data_offsets'"});
    m_header["pos_embed"]["data_offsets"] = {192};
    expectOpenError(writeWithHeader("offsets_length.safetensors", m_header),
                    {"pos_embed", "'data_offsets'"});
}

TEST_F(SafetensorsTest, RejectsDataOffsetsPastBuffer) {
    m_header["pos_embed"]["data_offsets"] = {m_buffer.size(), m_buffer.size() + 3264};
    expectOpenError(writeWithHeader("offsets_range.safetensors", m_header),
                    {"pos_embed", "past the end of the data buffer"});
}

TEST_F(SafetensorsTest, RejectsDataOffsetsThatBeginAfterTheyEnd) {
    m_header["pos_embed"]["data_offsets"] = {3456, 192};
    expectOpenError(writeWithHeader("offsets_reversed.safetensors", m_header),
                    {"pos_embed", "[3456, 192)", "begin after"});
}

TEST_F(SafetensorsTest, RejectsOverlappingTensors) {
    m_header["cls_token"]["data_offsets"] = {192, 384};  // inside pos_embed's [192, 3456)
    expectOpenError(writeWithHeader("overlap.safetensors", m_header),
                    {"'cls_token'", "'pos_embed'", "overlap"});
}

TEST_F(SafetensorsTest, RejectsShapeThatDoesNotMatchByteSpan) {
    m_header["pos_embed"]["shape"] = {1, 16, 48};
    expectOpenError(writeWithHeader("mismatch.safetensors", m_header),
                    {"pos_embed", "[192, 3456) do not match shape [1,16,48] x F32 = 3072 bytes"});
}

TEST_F(SafetensorsTest, RejectsMetadataThatIsNotAnObject) {
    m_header["__metadata__"] = "pt";
    expectOpenError(writeWithHeader("metadata.safetensors", m_header),
                    {"__metadata__", "not an object"});
}

TEST_F(SafetensorsTest, RejectsMetadataValueThatIsNotAString) {
    m_header["__metadata__"]["epochs"] = 3;
    expectOpenError(writeWithHeader("metadata_value.safetensors", m_header),
                    {"__metadata__", "'epochs'", "not a string"});
}

TEST_F(SafetensorsTest, KeepsMessagesOnOneLineWhateverTheTensorName) {
    m_header["evil\nname"] = {{"dtype", "Q8"}, {"shape", {1}}, {"data_offsets", {0, 1}}};
    expectOpenError(writeWithHeader("evil_name.safetensors", m_header), {"evil\\x0aname", "'Q8'"});
}

TEST_F(SafetensorsTest, AcceptsZeroSizeTensorsAnywhere) {
    // An empty tensor occupies no bytes, so sharing an offset with another tensor is no overlap.
    m_header["empty.a"] = {{"dtype", "F32"}, {"shape", {0, 48}}, {"data_offsets", {192, 192}}};
    m_header["empty.b"] = {
        {"dtype", "U8"}, {"shape", {0}}, {"data_offsets", {m_buffer.size(), m_buffer.size()}}};
    const SafetensorsFile file =
        SafetensorsFile::open(writeWithHeader("zero_size.safetensors", m_header));
    EXPECT_EQ(file.at("empty.a").byteSize, 0u);
    EXPECT_EQ(file.at("empty.a").elementCount(), 0);
    EXPECT_EQ(file.at("empty.b").shape, (std::vector<std::int64_t>{0}));
    EXPECT_TRUE(fovea::toFloatVector(file.at("empty.b")).empty());
}
