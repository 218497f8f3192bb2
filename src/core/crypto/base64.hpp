// Standard base64 (RFC 4648 §4, with padding) for armoring envelopes in text columns.
// Decoding is strict so that each byte string has exactly one accepted text form:
// anything but the alphabet, wrong padding, or non-zero unused bits is refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/byte_view.hpp"

namespace vlx::core {

std::string base64_encode(ByteView bytes);

// The decoded bytes, or nullopt if the text is not canonical padded base64.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);

}  // namespace vlx::core
