// The user images embedded in the kernel (user/embed_images.py builds the table): name -> bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace elf {

struct Image {
    const char* name;           // NUL-terminated, 1..kestrel::kMaxImageName bytes
    const unsigned char* begin; // the ELF file as built, in .rodata.user_images
    const unsigned char* end;

    std::size_t size() const { return static_cast<std::size_t>(end - begin); }
};
static_assert(sizeof(Image) == 24, "layout of the generated .dword table");

// Every embedded image, in user/meson.build's order; count() of them.
const Image* images();
std::size_t image_count();

// The image called [name, name + len) (not NUL-terminated); null when there is none.
const Image* find_image(const char* name, std::size_t len);

} // namespace elf
