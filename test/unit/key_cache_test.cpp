// The per-backend data key cache: bounded, least recently used out, every key wiped
// when it leaves.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/keys/key_cache.hpp"
#include "core/keys/key_policy.hpp"

using vlx::core::SecretBytes;
using vlx::core::keys::KeyCache;

namespace {
SecretBytes key_of(unsigned char fill) {
    SecretBytes k(32);
    for (std::size_t i = 0; i < k.size(); ++i) k.data()[i] = fill;
    return k;
}
}  // namespace

TEST(KeyCache, MissThenHit) {
    KeyCache cache(4);
    EXPECT_EQ(cache.get(7), nullptr);
    cache.put(7, key_of(0x77));
    const SecretBytes* k = cache.get(7);
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->size(), 32u);
    EXPECT_EQ(k->data()[0], 0x77);
    auto s = cache.stats();
    EXPECT_EQ(s.hits, 1u);
    EXPECT_EQ(s.misses, 1u);
    EXPECT_EQ(s.size, 1u);
    EXPECT_EQ(s.capacity, 4u);
}

TEST(KeyCache, BoundedLeastRecentlyUsedOut) {
    KeyCache cache(3);
    cache.put(1, key_of(1));
    cache.put(2, key_of(2));
    cache.put(3, key_of(3));
    ASSERT_NE(cache.get(1), nullptr);  // 1 becomes most recent; 2 is now least recent
    cache.put(4, key_of(4));
    EXPECT_TRUE(cache.contains(1));
    EXPECT_FALSE(cache.contains(2));
    EXPECT_TRUE(cache.contains(3));
    EXPECT_TRUE(cache.contains(4));
    EXPECT_EQ(cache.stats().size, 3u);
    EXPECT_EQ(cache.stats().evictions, 1u);
    for (std::uint32_t id = 10; id < 1000; ++id) cache.put(id, key_of(static_cast<unsigned char>(id)));
    EXPECT_EQ(cache.stats().size, 3u);
}

TEST(KeyCache, EvictedKeysAreWiped) {
    KeyCache cache(2);
    cache.put(1, key_of(1));
    cache.put(2, key_of(2));
    const auto before = SecretBytes::wiped_count();
    cache.put(3, key_of(3));  // evicts 1
    EXPECT_GE(SecretBytes::wiped_count(), before + 1);
    const auto before_clear = SecretBytes::wiped_count();
    cache.clear();
    EXPECT_GE(SecretBytes::wiped_count(), before_clear + 2);
    EXPECT_EQ(cache.stats().size, 0u);
}

TEST(KeyCache, ReplaceWipesOldBytes) {
    KeyCache cache(2);
    cache.put(5, key_of(0x55));
    const auto before = SecretBytes::wiped_count();
    cache.put(5, key_of(0x66));
    EXPECT_GE(SecretBytes::wiped_count(), before + 1);
    EXPECT_EQ(cache.get(5)->data()[0], 0x66);
    EXPECT_EQ(cache.stats().size, 1u);
}

TEST(KeyCache, ShrinkEvicts) {
    KeyCache cache(5);
    for (std::uint32_t id = 1; id <= 5; ++id) cache.put(id, key_of(static_cast<unsigned char>(id)));
    cache.set_capacity(2);
    EXPECT_EQ(cache.stats().size, 2u);
    EXPECT_TRUE(cache.contains(5));
    EXPECT_TRUE(cache.contains(4));
    cache.erase(5);
    EXPECT_FALSE(cache.contains(5));
}

TEST(KeyCache, ZeroCapacityRefused) {
    EXPECT_THROW(KeyCache(0), vlx::core::Error);
    KeyCache cache(1);
    EXPECT_THROW(cache.set_capacity(0), vlx::core::Error);
}

// ---- key policy -------------------------------------------------------------------------

namespace kp = vlx::core::keys;

TEST(KeyPolicy, MasterKeyFileMode) {
    EXPECT_TRUE(kp::master_key_file_mode_ok(0100600));
    EXPECT_TRUE(kp::master_key_file_mode_ok(0100400));
    EXPECT_FALSE(kp::master_key_file_mode_ok(0100640));
    EXPECT_FALSE(kp::master_key_file_mode_ok(0100604));
    EXPECT_FALSE(kp::master_key_file_mode_ok(0100644));
    EXPECT_FALSE(kp::master_key_file_mode_ok(0100610));
}

TEST(KeyPolicy, ReservationBlock) {
    EXPECT_EQ(kp::reservation_block(2147483648LL), 1024);
    EXPECT_EQ(kp::reservation_block(6400), 100);
    EXPECT_EQ(kp::reservation_block(10), 1);
    EXPECT_EQ(kp::reservation_block(1), 1);
}

TEST(KeyPolicy, MustRotateBeforeLimit) {
    EXPECT_FALSE(kp::must_rotate_before(0, 1, 10));
    EXPECT_FALSE(kp::must_rotate_before(9, 1, 10));
    EXPECT_TRUE(kp::must_rotate_before(10, 1, 10));
    EXPECT_TRUE(kp::must_rotate_before(2147483648LL - 1000, 1024, 2147483648LL));
    EXPECT_FALSE(kp::must_rotate_before(2147483648LL - 1024, 1024, 2147483648LL));
    EXPECT_TRUE(kp::must_rotate_before(-1, 1, 10));
}

TEST(KeyPolicy, RotationAction) {
    using kp::RotationAction;
    using kp::RotationPhase;
    EXPECT_EQ(kp::rotation_action(5, 5, RotationPhase::All, false), RotationAction::Skip);
    EXPECT_EQ(kp::rotation_action(5, 5, RotationPhase::Compromised, true), RotationAction::Skip);
    EXPECT_EQ(kp::rotation_action(4, 5, RotationPhase::All, false), RotationAction::Reencrypt);
    EXPECT_EQ(kp::rotation_action(4, 5, RotationPhase::All, true), RotationAction::Reencrypt);
    EXPECT_EQ(kp::rotation_action(4, 5, RotationPhase::Compromised, false), RotationAction::Skip);
    EXPECT_EQ(kp::rotation_action(4, 5, RotationPhase::Compromised, true), RotationAction::Reencrypt);
}

TEST(KeyPolicy, ProtectedContext) {
    EXPECT_EQ(kp::protected_context("public", "patients", "notes", "42"), "public.patients.notes#42");
    EXPECT_EQ(kp::protected_context("\"My Schema\"", "t", "c", ""), "\"My Schema\".t.c#");
}
