// UTF-8, strictly: what the studio checks request bodies and error answers with, and what
// messages that quote outside text use to cut at a whole character. Torch-free.
#pragma once

#include <cstddef>
#include <string>

namespace bachgen::io {

// The length of the well-formed UTF-8 character starting at text[at] (1-4), or 0 when the
// bytes there are not one (a stray continuation byte, an overlong form, a surrogate, past
// U+10FFFF, or cut off by the end).
size_t utf8_sequence_length(const std::string& text, size_t at);
// The text with every byte that is not part of a well-formed UTF-8 character replaced by
// U+FFFD, so that it can be quoted in JSON (an answer that names a bad input).
std::string valid_utf8(const std::string& text);

}  // namespace bachgen::io
