// Bytes that must not outlive their use (key material, plaintext PHI): the buffer is wiped
// with OPENSSL_cleanse when it is released, however it is released, including while an
// exception unwinds. A process-wide counter of wipes lets tests prove that it happened.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vlx::core {

class SecretBytes {
public:
    SecretBytes() = default;
    explicit SecretBytes(std::size_t size) : bytes_(size) {}
    SecretBytes(const unsigned char* data, std::size_t size) : bytes_(data, data + size) {}
    ~SecretBytes() { wipe(); }

    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;
    SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) { other.bytes_.clear(); }
    SecretBytes& operator=(SecretBytes&& other) noexcept;

    unsigned char* data() noexcept { return bytes_.data(); }
    const unsigned char* data() const noexcept { return bytes_.data(); }
    std::size_t size() const noexcept { return bytes_.size(); }
    bool empty() const noexcept { return bytes_.empty(); }

    // Zeroes and frees the buffer now.
    void wipe() noexcept;

    // How many non-empty buffers this process has wiped (for tests and health reporting).
    static std::uint64_t wiped_count() noexcept;

private:
    std::vector<unsigned char> bytes_;
};

}  // namespace vlx::core
