// The result of every capability-table operation: Ok, or the one reason it was refused.
#pragma once

#include <cstdint>

namespace ipc {

// A refused operation changes nothing: no slot, no object count. Where an operation could fail
// for several reasons the first in this order is given: the source slot (range, empty, type,
// rights), then the arguments (rights bits, badge), then the destination slot (range,
// occupied), then the object's count (RFC-0028 "Errors").
// clang-format off
enum class [[nodiscard]] CapError : std::uint8_t {
    Ok,
    SlotOutOfRange,   // the slot index is >= the table's slot count (any 64-bit value is taken)
    EmptySlot,        // the slot holds no capability
    SlotOccupied,     // the destination slot already holds one
    WrongType,        // lookup: the capability names another type of object
    MissingRight,     // lookup: the capability lacks a right the operation needs
    BadgeAlreadySet,  // mint: a badge on a capability that already has one
    RightsEscalation, // mint, copy: rights the source does not have
    NotBadgeable,     // mint: a badge on a capability that cannot carry one (ipc::badgeable)
    InvalidRights,    // rights bits outside Send | Receive | Grant
    InvalidObject,    // insert: a null object or the type None
    ObjectHasCaps,    // insert: the object already has capabilities (insert makes the first)
    CountOverflow,    // copy, mint: the object's count is at KernelObject::kMaxCaps
};
// clang-format on

inline constexpr std::uint32_t kCapErrorCount = 13; // values of CapError, Ok included

[[nodiscard]] constexpr const char* cap_error_name(CapError e) {
    switch (e) {
    case CapError::Ok:
        return "Ok";
    case CapError::SlotOutOfRange:
        return "SlotOutOfRange";
    case CapError::EmptySlot:
        return "EmptySlot";
    case CapError::SlotOccupied:
        return "SlotOccupied";
    case CapError::WrongType:
        return "WrongType";
    case CapError::MissingRight:
        return "MissingRight";
    case CapError::BadgeAlreadySet:
        return "BadgeAlreadySet";
    case CapError::RightsEscalation:
        return "RightsEscalation";
    case CapError::NotBadgeable:
        return "NotBadgeable";
    case CapError::InvalidRights:
        return "InvalidRights";
    case CapError::InvalidObject:
        return "InvalidObject";
    case CapError::ObjectHasCaps:
        return "ObjectHasCaps";
    case CapError::CountOverflow:
        return "CountOverflow";
    }
    return "unknown";
}

} // namespace ipc
