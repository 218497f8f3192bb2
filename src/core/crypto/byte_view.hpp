// A read-only view of bytes (C++17 has no std::span), so the crypto functions accept
// vectors, strings, arrays and SecretBytes alike without copying key material around.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/secret_bytes.hpp"

namespace vlx::core {

class ByteView {
public:
    constexpr ByteView() noexcept = default;
    constexpr ByteView(const std::uint8_t* data, std::size_t size) noexcept : data_(data), size_(size) {}
    ByteView(const std::vector<std::uint8_t>& bytes) noexcept : data_(bytes.data()), size_(bytes.size()) {}
    ByteView(const SecretBytes& bytes) noexcept : data_(bytes.data()), size_(bytes.size()) {}
    template <std::size_t N>
    ByteView(const std::array<std::uint8_t, N>& bytes) noexcept : data_(bytes.data()), size_(N) {}
    ByteView(std::string_view text) noexcept
        : data_(reinterpret_cast<const std::uint8_t*>(text.data())), size_(text.size()) {}
    ByteView(const std::string& text) noexcept : ByteView(std::string_view(text)) {}
    ByteView(const char* text) noexcept : ByteView(std::string_view(text)) {}

    const std::uint8_t* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    const std::uint8_t* begin() const noexcept { return data_; }
    const std::uint8_t* end() const noexcept { return data_ + size_; }
    std::uint8_t operator[](std::size_t i) const noexcept { return data_[i]; }

    // The bytes [offset, offset + count); the caller has checked the bounds.
    ByteView slice(std::size_t offset, std::size_t count) const noexcept { return {data_ + offset, count}; }

private:
    const std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace vlx::core
