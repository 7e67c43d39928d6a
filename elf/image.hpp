// An ELF image in memory: its name and its bytes (the loader's input, mm/user_space.hpp).
#pragma once

#include <cstddef>

namespace elf {

struct Image {
    const char* name;           // NUL-terminated, 1..kestrel::kMaxImageName bytes
    const unsigned char* begin; // the ELF file as built, in .rodata.user_images
    const unsigned char* end;

    std::size_t size() const { return static_cast<std::size_t>(end - begin); }
};
static_assert(sizeof(Image) == 24, "layout of the generated .dword table (proc/images.hpp)");

} // namespace elf
