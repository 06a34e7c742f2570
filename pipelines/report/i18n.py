"""Every word the report shows, in English and Vietnamese.

Both languages are embedded in the one file and the switch only toggles which is visible, so a
reader can flip languages offline. Names the analysts wrote (objective and KR titles, owners,
campaigns) are shown as written, in whichever language they were written.
"""

from __future__ import annotations

import string

from pipelines.report.format import LANGS

STATUS = {
    "on_track": ("On track", "Đúng tiến độ"),
    "at_risk": ("At risk", "Có rủi ro"),
    "off_track": ("Off track", "Chệch hướng"),
    "no_data": ("No data", "Chưa có dữ liệu"),
    "not_started": ("Not started", "Chưa bắt đầu"),
    "stale": ("Stale data", "Dữ liệu cũ"),
    "invalid": ("Invalid", "Không hợp lệ"),
    "healthy": ("Healthy", "Ổn định"),
    "breached": ("Breached", "Vượt ngưỡng"),
    "self_reported": ("Self-reported", "Tự báo cáo"),
}

WORDS = {
    "title": ("OKR progress report", "Báo cáo tiến độ OKR"),
    "as_of": ("Scores as of {date}", "Điểm tính đến ngày {date}"),
    "computed": ("computed {when} UTC", "tính lúc {when} UTC"),
    "switch": ("Tiếng Việt", "English"),
    "switch_label": ("Xem bằng tiếng Việt", "Switch to English"),
    "summary": (
        "{objectives} objectives, {krs} key results, {kpis} KPIs",
        "{objectives} mục tiêu, {krs} kết quả then chốt, {kpis} KPI",
    ),
    "alignment": ("Alignment", "Liên kết mục tiêu"),
    "alignment_help": (
        "Company, department and team objectives: each child's score rolls up into its parent.",
        "Mục tiêu công ty, phòng ban và nhóm: điểm của mục tiêu con được cộng dồn vào mục tiêu cha.",
    ),
    "objectives": ("Objectives and key results", "Mục tiêu và kết quả then chốt"),
    "objective": ("Objective", "Mục tiêu"),
    "aligned_to": ("Aligned to", "Đóng góp cho"),
    "committed": ("Committed: on track when heading for 100%", "Cam kết: đúng tiến độ khi hướng tới 100%"),
    "aspirational": ("Aspirational: 70% is a success", "Tham vọng: đạt 70% là thành công"),
    "score": ("Score", "Điểm"),
    "forecast_score": ("Forecast score", "Điểm dự báo"),
    "owner": ("Owner", "Người phụ trách"),
    "period": ("Period", "Thời gian"),
    "actual": ("Actual", "Thực tế"),
    "target": ("Target", "Mục tiêu"),
    "baseline": ("Baseline", "Mức xuất phát"),
    "progress": ("Progress", "Tiến độ"),
    "expected": ("Expected by now", "Kỳ vọng đến nay"),
    "forecast": ("Forecast at period end", "Dự báo cuối kỳ"),
    "forecast_range": ("likely {low} to {high}", "nhiều khả năng từ {low} đến {high}"),
    "data_through": ("Data through", "Dữ liệu đến"),
    "weight": ("Weight", "Trọng số"),
    "status": ("Status", "Trạng thái"),
    "progress_bar": (
        "Progress {progress} of target; expected by now {expected}",
        "Đạt {progress} mục tiêu; kỳ vọng đến nay {expected}",
    ),
    "pace_marker": ("marker: expected by now", "vạch: kỳ vọng đến nay"),
    "score_history": ("Score history", "Lịch sử điểm"),
    "metric_trend": ("{metric} through the period", "{metric} trong kỳ"),
    "metric_daily": ("{metric} per day", "{metric} theo ngày"),
    "legend_actual": ("Actual (solid line)", "Thực tế (nét liền)"),
    "legend_pace": ("Expected pace (dashed line)", "Tiến độ kỳ vọng (nét đứt)"),
    "legend_forecast": ("Forecast (dotted line)", "Dự báo (nét chấm)"),
    "legend_level": ("Target or threshold (thin line)", "Mục tiêu hoặc ngưỡng (nét mảnh)"),
    "legend_baseline": ("Baseline (thin dashed line)", "Mức xuất phát (nét đứt mảnh)"),
    "target_text": ("{text} on the baseline", "{text} so với mức xuất phát"),
    "baseline_kind.same_period_last_year": ("measured: same period last year", "đo được: cùng kỳ năm trước"),
    "baseline_kind.previous_period": ("measured: the period before", "đo được: kỳ liền trước"),
    "data_table": ("Data table", "Bảng số liệu"),
    "date": ("Date", "Ngày"),
    "value": ("Value", "Giá trị"),
    "no_chart": ("No data to chart yet.", "Chưa có dữ liệu để vẽ biểu đồ."),
    "one_point": ("One run so far: the trend grows with each run.", "Mới có một lần chạy: xu hướng sẽ hiện dần."),
    "movers": ("What moved it: last 7 days vs the 7 before", "Điều gì tạo ra thay đổi: 7 ngày qua so với 7 ngày trước"),
    "movers_total": ("In total: {last} vs {prev} ({change}).", "Tổng cộng: {last} so với {prev} ({change})."),
    "movers_ratio_total": (
        "In total the ratio went from {prev} to {last}.",
        "Tổng cộng tỷ lệ đi từ {prev} đến {last}.",
    ),
    "movers_none": ("Nothing moved in the last 14 days.", "Không có thay đổi trong 14 ngày qua."),
    "campaign": ("Campaign", "Chiến dịch"),
    "channel": ("Channel", "Kênh"),
    "last7": ("Last 7 days", "7 ngày qua"),
    "prev7": ("7 days before", "7 ngày trước đó"),
    "change": ("Change", "Thay đổi"),
    "ratio_last7": ("Its ratio, last 7 days", "Tỷ lệ riêng, 7 ngày qua"),
    "effect": ("Effect on the key result", "Tác động lên KR"),
    "kpis": ("KPIs: health metrics", "KPI: chỉ số sức khỏe"),
    "kpis_help": (
        "KPIs are watched against a band over the last days; they are not OKRs and do not roll up.",
        "KPI được theo dõi so với ngưỡng trong những ngày gần nhất; chúng không phải OKR và không cộng dồn.",
    ),
    "stay_above": ("Stay above", "Giữ trên"),
    "stay_below": ("Stay below", "Giữ dưới"),
    "band": ("Band", "Ngưỡng"),
    "window": ("Window", "Khoảng thời gian"),
    "quality": ("Data quality", "Chất lượng dữ liệu"),
    "sources": ("How fresh each source is", "Độ mới của từng nguồn"),
    "source": ("Source", "Nguồn"),
    "fresh": ("up to date", "cập nhật đủ"),
    "lag": ("{days} days behind the as-of date", "chậm {days} ngày so với ngày tính điểm"),
    "missing_title": ("Missing values in the exports", "Giá trị bị thiếu trong dữ liệu xuất"),
    "missing": (
        "{source}: {missing} of {rows} {metric} rows have no value; they are skipped, never counted as 0.",
        "{source}: {missing} trên {rows} dòng {metric} không có giá trị; được bỏ qua, không tính là 0.",
    ),
    "no_missing": ("No missing values.", "Không có giá trị bị thiếu."),
    "no_data_title": ("Key results and KPIs without data", "Kết quả then chốt và KPI chưa có dữ liệu"),
    "no_data_none": ("Every key result and KPI has data.", "Mọi kết quả then chốt và KPI đều có dữ liệu."),
    "no_data_help": (
        "Their filters match no rows: they are left out of the scores, not shown as 0%.",
        "Bộ lọc không khớp dòng nào: chúng không được tính điểm, không hiển thị là 0%.",
    ),
    "notes_title": ("Other notes from the sources", "Ghi chú khác từ các nguồn"),
    "footer": (
        "Made by okr-autoscore from measured data; this page works offline.",
        "Tạo bởi okr-autoscore từ dữ liệu đo được; trang này xem được khi không có mạng.",
    ),
    "note": ("Note", "Ghi chú"),
    "quality_note.thresholding": (
        "GA4 withheld rows under its privacy thresholds, so these may be below the real totals: {items}.",
        "GA4 đã ẩn các dòng dưới ngưỡng bảo mật, nên các số này có thể thấp hơn tổng thực: {items}.",
    ),
    "quality_note.sampling": (
        "GA4 computed these from a sample (as little as {share} of the data read): {items}.",
        "GA4 tính các số này từ dữ liệu lấy mẫu (có lúc chỉ đọc {share} dữ liệu): {items}.",
    ),
    "quality_note.other_row": (
        "GA4 rolled low-volume rows into (other): totals are complete, campaign detail is not: {items}.",
        "GA4 đã gộp các dòng ít dữ liệu vào (other): tổng vẫn đủ, chi tiết theo chiến dịch thì không: {items}.",
    ),
    "quality_item.daily": ("{title}: {flagged} of {checked} days", "{title}: {flagged} trên {checked} ngày"),
    "quality_item.period": ("{title}: its whole-window query", "{title}: truy vấn cả kỳ của nó"),
    "baseline_window": ("{title} (baseline window)", "{title} (kỳ cơ sở)"),
}

KINDS = {
    "sampling": ("Sampled data", "Dữ liệu lấy mẫu"),
    "thresholding": ("Thresholded data", "Dữ liệu bị ẩn theo ngưỡng"),
    "other_row": ("Rows rolled into (other)", "Dòng bị gộp vào (other)"),
    "unmatched": ("Unmatched campaigns", "Chiến dịch không khớp"),
}

STRINGS: dict[str, tuple[str, str]] = (
    {f"status.{k}": v for k, v in STATUS.items()} | WORDS | {f"kind.{k}": v for k, v in KINDS.items()}
)


def fields(template: str) -> set[str]:
    """The {placeholders} of a string, so tests can check both languages take the same ones."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def text(key: str, lang: str, **values: object) -> str:
    """The string `key` in `lang` with its placeholders filled."""
    pair = STRINGS[key]
    return pair[LANGS.index(lang)].format(**values) if values else pair[LANGS.index(lang)]
