// The embedded user image table: the symbols come from the generated user_images.S.
#include "proc/images.hpp"

extern "C" const elf::Image kestrel_user_images[];
extern "C" const std::uint64_t kestrel_user_image_count;

namespace k::user {

const elf::Image* images() {
    return kestrel_user_images;
}
std::size_t image_count() {
    return static_cast<std::size_t>(kestrel_user_image_count);
}

const elf::Image* find_image(const char* name, std::size_t len) {
    for (std::size_t i = 0; i < image_count(); ++i) {
        const char* n = kestrel_user_images[i].name;
        std::size_t j = 0;
        while (j < len && n[j] != '\0' && n[j] == name[j])
            ++j;
        if (j == len && n[j] == '\0') return &kestrel_user_images[i];
    }
    return nullptr;
}

} // namespace k::user
