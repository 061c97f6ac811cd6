/* The national dashboard: the nation's headline figures with the provinces they lack, and the provinces ranked,
   for the chosen month (data: p06/documents/dashboard/national.py). */
"use strict";
(function () {
  const D = P06.data(), el = P06.el;
  const month = document.getElementById("month"), title = document.getElementById("month-title");
  const cards = document.getElementById("nation-cards");
  const select = document.getElementById("rank-indicator"), search = document.getElementById("rank-search");
  const table = document.getElementById("rank-table"), summary = document.getElementById("rank-summary");
  const chart = P06.chart(document.getElementById("rank-chart"));
  const state = { key: "rank", dir: 1 };
  const unitText = (ind) => (ind.unit === "%" ? "%" : " " + ind.unit);
  if (D.headline.length) select.value = D.headline[0];

  const missingSummary = document.getElementById("missing-summary");
  const missingText = (r) => (r.missing.length ? `Chưa có số liệu của ${r.missing.length} tỉnh, thành phố: ${r.missing.join(", ")}.`
                                                : "Đủ số liệu của các tỉnh, thành phố.");
  function renderCards() {
    const n = D.nation[month.value] || {};
    const common = D.headline.map((c) => n[c]).find((r) => r);
    missingSummary.textContent = common ? `Số toàn quốc ${D.month_labels[month.value]} tổng hợp từ ${common.reporting}/${common.expected} tỉnh, thành phố. ${missingText(common)}` : "";
    cards.replaceChildren(...D.headline.filter((c) => n[c]).map((code) => {
      const r = n[code], ind = D.indicators[code], flagged = r.quality !== "complete" && r.quality !== "ok";
      return el("article", { cls: "card" + (flagged ? " q-partial" : ""), "data-testid": "nation-headline", "data-code": code }, [
        el("p", { cls: "group", text: `Nhóm ${ind.group}` }), el("h3", { text: ind.name }),
        el("p", { cls: "value" }, [el("span", { "data-testid": "headline-value", text: r.text ?? "—" }),
                                   el("span", { cls: "unit", text: unitText(ind) })]),
        ...(flagged ? [el("p", { cls: "flag", "data-testid": "flag", text: "⚠ " + (D.flag_mark.partial || r.quality) })] : []),
        el("dl", {}, [
          el("dt", { text: "Tỉnh, thành phố đã báo cáo" }), el("dd", { "data-testid": "reporting", text: `${r.reporting}/${r.expected}` }),
          el("dt", { text: "So với tháng trước" }), el("dd", { text: r.change_text ? r.change_text + (ind.unit === "%" ? " điểm %" : "") : "—" }),
        ]),
        ...(missingText(r) !== missingText(common) ? [el("p", { cls: "missing", "data-testid": "missing", text: missingText(r) })] : []),
      ]);
    }));
  }

  function renderRanking() {
    const code = select.value, ind = D.indicators[code], n = (D.nation[month.value] || {})[code];
    const items = ((D.provinces[month.value] || {})[code] || []).map((a) => ({ code: a[0], value: a[1], text: a[2], vintage: a[3], quality: a[4], rank: a[5], name: D.names[a[0]] || a[0] }));
    const q = P06.fold(search.value.trim());
    const val = (i) => (state.key === "name" ? P06.fold(i.name) : i[state.key]);
    const shown = items.filter((i) => !q || P06.fold(i.name).includes(q)).sort((a, b) => {
      const x = val(a), y = val(b);
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : x > y ? 1 : 0) * state.dir;
    });
    summary.textContent = `${items.length} tỉnh, thành phố có số liệu` + (n ? `; toàn quốc ${n.text}${unitText(ind)}` : "")
      + (ind.lower_better ? "; chỉ tiêu này càng thấp càng tốt" : "") + ".";
    table.tBodies[0].replaceChildren(...shown.map((i) => {
      const worse = ind.ratio && n && n.value !== null && i.value !== null && (ind.lower_better ? i.value > n.value : i.value < n.value);
      return el("tr", { cls: worse ? "below-province" : "", "data-testid": "rank-row", "data-value": i.value, "data-code": i.code }, [
        el("td", { cls: "num", text: i.rank ?? "" }), el("td", { text: i.name }),
        el("td", { cls: "num", text: i.text ?? "—", "data-testid": "rank-value" }), el("td", { cls: "num", text: i.vintage ?? "" }),
        el("td", {}, i.quality !== "complete" && i.quality !== "ok" ? [el("span", { cls: "flag", text: "⚠ " + (D.flag_mark[i.quality] || i.quality) })] : []),
      ]);
    }));
    table.querySelectorAll("th[data-sort]").forEach((th) => {
      th.classList.toggle("sorted-asc", th.dataset.sort === state.key && state.dir === 1);
      th.classList.toggle("sorted-desc", th.dataset.sort === state.key && state.dir === -1);
    });
    const ranked = items.filter((i) => i.value !== null);
    chart.setOption({
      animation: false, grid: { left: 56, right: 16, top: 28, bottom: 90 },
      title: { text: ind.name, left: 8, top: 4, textStyle: { fontSize: 13 } },
      tooltip: { trigger: "axis", formatter: (p) => `${p[0].name}: <b>${ranked[p[0].dataIndex].text}</b>${unitText(ind)}` },
      xAxis: { type: "category", data: ranked.map((i) => i.name), axisLabel: { rotate: 60, fontSize: 10, interval: 0 } },
      yAxis: { type: "value", scale: !ind.ratio },
      series: [{ type: "bar", data: ranked.map((i) => i.value), color: "#0b5cad",
        markLine: n && n.value !== null ? { symbol: "none", silent: true, lineStyle: { color: "#1b1f24" },
          label: { formatter: `Toàn quốc ${n.text}`, position: "insideEndTop" }, data: [{ yAxis: n.value }] } : undefined }],
    }, true);
  }

  function render() { title.textContent = D.month_labels[month.value] || ""; renderCards(); renderRanking(); }
  month.addEventListener("change", render);
  select.addEventListener("change", renderRanking);
  search.addEventListener("input", renderRanking);
  table.querySelectorAll("th[data-sort]").forEach((th) => th.addEventListener("click", () => {
    state.dir = state.key === th.dataset.sort ? -state.dir : 1;
    state.key = th.dataset.sort;
    renderRanking();
  }));
  if (D.latest) render();
  document.body.dataset.ready = "1";
})();
