// A bounded per-backend cache of unwrapped data keys (key_id -> 32 key bytes), least
// recently used first out. Every key leaves memory wiped: evicted, replaced, cleared or
// destroyed, its SecretBytes zeroes the buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>
#include <utility>

#include "core/secret_bytes.hpp"

namespace vlx::core::keys {

struct KeyCacheStats {
    std::size_t size = 0;
    std::size_t capacity = 0;
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t evictions = 0;
};

class KeyCache {
public:
    // capacity >= 1 (InvalidParameter otherwise).
    explicit KeyCache(std::size_t capacity);

    // The cached key, marked most recently used; nullptr (a miss) when absent. The pointer
    // is valid until the next put(), set_capacity() or clear().
    const SecretBytes* get(std::uint32_t key_id);

    // Caches key (replacing a previous entry for key_id), evicting the least recently used
    // entries beyond the capacity. Returns the cached copy.
    const SecretBytes& put(std::uint32_t key_id, SecretBytes key);

    // Shrinks (evicting) or grows the bound.
    void set_capacity(std::size_t capacity);

    bool contains(std::uint32_t key_id) const { return index_.count(key_id) != 0; }
    void erase(std::uint32_t key_id);
    void clear();

    KeyCacheStats stats() const;

private:
    using Entry = std::pair<std::uint32_t, SecretBytes>;
    void evict_beyond(std::size_t bound);

    std::size_t capacity_;
    std::list<Entry> order_;  // front = most recently used
    std::unordered_map<std::uint32_t, std::list<Entry>::iterator> index_;
    std::uint64_t hits_ = 0, misses_ = 0, evictions_ = 0;
};

}  // namespace vlx::core::keys
