#include "core/error.hpp"
#include "core/secret_bytes.hpp"
#include "core/selftest.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace vlx::core;

TEST(SecretBytes, WipedOnDestruction) {
    const auto before = SecretBytes::wiped_count();
    { SecretBytes key(32); }
    EXPECT_EQ(SecretBytes::wiped_count(), before + 1);
}

TEST(SecretBytes, WipedWhenAnExceptionUnwindsThroughTheCore) {
    const auto before = SecretBytes::wiped_count();
    EXPECT_THROW(run_holding_secret([]() -> std::string { throw std::runtime_error("beneath"); }),
                 std::runtime_error);
    EXPECT_EQ(SecretBytes::wiped_count(), before + 1);
}

TEST(SecretBytes, MovedFromBufferIsEmptyAndWipesOnce) {
    const auto before = SecretBytes::wiped_count();
    {
        SecretBytes a(16);
        SecretBytes b(std::move(a));
        EXPECT_TRUE(a.empty());
        EXPECT_EQ(b.size(), 16u);
    }
    EXPECT_EQ(SecretBytes::wiped_count(), before + 1);
}

TEST(Selftest, CoreErrorCarriesItsKind) {
    try {
        fail_with_invalid_parameter();
        FAIL() << "must throw";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidParameter);
        EXPECT_FALSE(e.detail().empty());
    }
}
