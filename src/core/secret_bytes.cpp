#include "core/secret_bytes.hpp"

#include <atomic>

#include <openssl/crypto.h>

namespace vlx::core {
namespace {
std::atomic<std::uint64_t> g_wiped{0};
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
        wipe();
        bytes_ = std::move(other.bytes_);
        other.bytes_.clear();
    }
    return *this;
}

void SecretBytes::wipe() noexcept {
    if (bytes_.empty()) return;
    OPENSSL_cleanse(bytes_.data(), bytes_.size());
    bytes_.clear();
    bytes_.shrink_to_fit();
    g_wiped.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t SecretBytes::wiped_count() noexcept { return g_wiped.load(std::memory_order_relaxed); }

}  // namespace vlx::core
