#include "core/keys/key_cache.hpp"

#include "core/error.hpp"

namespace vlx::core::keys {

KeyCache::KeyCache(std::size_t capacity) : capacity_(capacity) {
    if (capacity == 0) invalid_parameter("key cache capacity must be at least 1");
}

const SecretBytes* KeyCache::get(std::uint32_t key_id) {
    auto it = index_.find(key_id);
    if (it == index_.end()) {
        ++misses_;
        return nullptr;
    }
    ++hits_;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
}

const SecretBytes& KeyCache::put(std::uint32_t key_id, SecretBytes key) {
    auto it = index_.find(key_id);
    if (it != index_.end()) {
        it->second->second = std::move(key);  // the old bytes are wiped by the move
        order_.splice(order_.begin(), order_, it->second);
        return it->second->second;
    }
    evict_beyond(capacity_ - 1);
    order_.emplace_front(key_id, std::move(key));
    index_[key_id] = order_.begin();
    return order_.front().second;
}

void KeyCache::set_capacity(std::size_t capacity) {
    if (capacity == 0) invalid_parameter("key cache capacity must be at least 1");
    capacity_ = capacity;
    evict_beyond(capacity_);
}

void KeyCache::erase(std::uint32_t key_id) {
    auto it = index_.find(key_id);
    if (it == index_.end()) return;
    order_.erase(it->second);  // SecretBytes destructor wipes
    index_.erase(it);
}

void KeyCache::clear() {
    order_.clear();
    index_.clear();
}

void KeyCache::evict_beyond(std::size_t bound) {
    while (order_.size() > bound) {
        index_.erase(order_.back().first);
        order_.pop_back();
        ++evictions_;
    }
}

KeyCacheStats KeyCache::stats() const {
    KeyCacheStats s;
    s.size = order_.size();
    s.capacity = capacity_;
    s.hits = hits_;
    s.misses = misses_;
    s.evictions = evictions_;
    return s;
}

}  // namespace vlx::core::keys
