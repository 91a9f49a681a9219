#pragma once
// Text as the file reports write it: numbers with as many decimals as carry information, and
// markup escaped for HTML and XML.
#include <string>
#include <string_view>

namespace cicada::report {

// `value` rounded to at most `max_decimals` decimals, trailing zeros dropped: 12.5, 100, 0.045.
std::string format_decimal(double value, int max_decimals);
// Milliseconds at microsecond precision, the resolution cicada measures with: "12.345".
inline std::string format_ms_exact(double ms) { return format_decimal(ms, 3); }

// `text` with & < > " ' replaced by entities: safe in HTML or XML text and attribute values.
std::string escape_markup(std::string_view text);

}  // namespace cicada::report
