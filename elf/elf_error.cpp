// Names of the ELF validator's refusals, for logs and test messages.
#include "elf/elf.hpp"

namespace elf {

const char* name(ElfError e) {
    switch (e) {
    case ElfError::Ok:
        return "Ok";
    case ElfError::Truncated:
        return "Truncated";
    case ElfError::BadMagic:
        return "BadMagic";
    case ElfError::BadClass:
        return "BadClass";
    case ElfError::BadDataEncoding:
        return "BadDataEncoding";
    case ElfError::BadIdentVersion:
        return "BadIdentVersion";
    case ElfError::BadOsAbi:
        return "BadOsAbi";
    case ElfError::BadType:
        return "BadType";
    case ElfError::BadMachine:
        return "BadMachine";
    case ElfError::BadVersion:
        return "BadVersion";
    case ElfError::BadFlags:
        return "BadFlags";
    case ElfError::BadFloatAbi:
        return "BadFloatAbi";
    case ElfError::BadEhsize:
        return "BadEhsize";
    case ElfError::BadPhentsize:
        return "BadPhentsize";
    case ElfError::TooManyPhdrs:
        return "TooManyPhdrs";
    case ElfError::PhdrsOverlapHeader:
        return "PhdrsOverlapHeader";
    case ElfError::PhdrsOutOfFile:
        return "PhdrsOutOfFile";
    case ElfError::BadShentsize:
        return "BadShentsize";
    case ElfError::TooManySections:
        return "TooManySections";
    case ElfError::ShdrsUnsupported:
        return "ShdrsUnsupported";
    case ElfError::ShdrsOutOfFile:
        return "ShdrsOutOfFile";
    case ElfError::BadShstrndx:
        return "BadShstrndx";
    case ElfError::SectionOutOfFile:
        return "SectionOutOfFile";
    case ElfError::UnsupportedSegment:
        return "UnsupportedSegment";
    case ElfError::NoLoadSegment:
        return "NoLoadSegment";
    case ElfError::TooManySegments:
        return "TooManySegments";
    case ElfError::BadSegmentFlags:
        return "BadSegmentFlags";
    case ElfError::WriteAndExecute:
        return "WriteAndExecute";
    case ElfError::WriteWithoutRead:
        return "WriteWithoutRead";
    case ElfError::EmptySegment:
        return "EmptySegment";
    case ElfError::FileszOverMemsz:
        return "FileszOverMemsz";
    case ElfError::FileRangeOverflow:
        return "FileRangeOverflow";
    case ElfError::FileRangeOutOfFile:
        return "FileRangeOutOfFile";
    case ElfError::BadAlign:
        return "BadAlign";
    case ElfError::AlignMismatch:
        return "AlignMismatch";
    case ElfError::AddressOverflow:
        return "AddressOverflow";
    case ElfError::BelowUserBase:
        return "BelowUserBase";
    case ElfError::AboveUserLimit:
        return "AboveUserLimit";
    case ElfError::Unsorted:
        return "Unsorted";
    case ElfError::Overlap:
        return "Overlap";
    case ElfError::TooLarge:
        return "TooLarge";
    case ElfError::EntryMisaligned:
        return "EntryMisaligned";
    case ElfError::EntryNotExecutable:
        return "EntryNotExecutable";
    }
    return "unknown";
}

const char* name(FloatAbi a) {
    switch (a) {
    case FloatAbi::Soft:
        return "lp64";
    case FloatAbi::Single:
        return "lp64f";
    case FloatAbi::Double:
        return "lp64d";
    }
    return "unknown";
}

} // namespace elf
