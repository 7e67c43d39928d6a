// The user images embedded in the kernel (user/embed_images.py builds the table): name -> bytes.
#pragma once

#include "elf/image.hpp"

#include <cstddef>
#include <cstdint>

namespace k::user {

// Every embedded image, in user/meson.build's order; count() of them.
const elf::Image* images();
std::size_t image_count();

// The image called [name, name + len) (not NUL-terminated); null when there is none.
const elf::Image* find_image(const char* name, std::size_t len);

} // namespace k::user
