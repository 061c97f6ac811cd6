/* The province's dashboard: trends, the ranking of units and one unit's panel, from the embedded data
   (p06/documents/dashboard/data.py). The static parts are rendered by the template. */
"use strict";
(function () {
  performance.mark("script");
  const D = P06.data(), el = P06.el;
  const rows = Object.fromEntries(D.province_rows.map((r) => [r.code, r]));
  const unitLabel = (key) => D.units[key].name;
  const last = D.months.length - 1;
  /* A ranked unit as an object (the page's data holds arrays: data.py RANK_FIELDS), with its value of the month. */
  const ranked = (code) => (D.ranking[code] || []).map((a) => {
    const item = Object.fromEntries(D.rank_fields.map((f, k) => [f, a[k]]));
    const own = (D.units[item.unit].series[code] || {})[last] || [null, null];
    return { ...item, unit: String(item.unit), value: own[0], text: own[1], why: item.why === null ? null : D.whys[item.why] };
  });
  const tooltipText = (texts, unit) => (p) => {
    const items = Array.isArray(p) ? p : [p];
    return items.filter((i) => i.value !== null && i.value !== undefined)
      .map((i) => `${i.axisValue || i.name}: <b>${texts(i)}</b>${unit === "%" ? "%" : " " + unit}`).join("<br>");
  };

  /* Trends of the province over the months (cards and table rows): small SVG lines, each point titled. */
  const breakIndexes = D.breaks.map((b) => b.index);
  document.querySelectorAll("svg.spark").forEach((svg) => {
    const r = rows[svg.dataset.code], unit = D.indicators[svg.dataset.code].unit;
    P06.spark(svg, r.trend, r.trend_text.map((t, i) => (t === null ? null : `${D.months[i]}: ${t}${unit === "%" ? "%" : " " + unit}`)),
              breakIndexes);
  });
  performance.mark("cards");

  /* Ranking of the units for a chosen indicator. */
  const select = document.getElementById("rank-indicator"), search = document.getElementById("rank-search");
  const table = document.getElementById("rank-table"), summary = document.getElementById("rank-summary");
  const rankChart = P06.chart(document.getElementById("rank-chart"));
  const state = { code: D.headline_codes.find((c) => D.ranking[c]) || select.value, key: "rank", dir: 1 };
  select.value = state.code;

  function sorted(items) {
    const k = state.key;
    const val = (i) => (k === "name" ? P06.fold(unitLabel(i.unit)) : k === "change" ? parseChange(i.change_text) : i[k]);
    return items.slice().sort((a, b) => {
      const x = val(a), y = val(b);
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : x > y ? 1 : 0) * state.dir;
    });
  }
  function parseChange(text) { return text === null ? null : Number(text.replace(/\./g, "").replace(",", ".")); }

  function renderRanking() {
    const code = state.code, ind = D.indicators[code], prov = rows[code], items = ranked(code);
    const q = P06.fold(search.value.trim());
    const shown = sorted(items.filter((i) => !q || P06.fold(unitLabel(i.unit)).includes(q)));
    const level = items.length ? D.levels[D.units[items[0].unit].level] : "";
    const belowP = items.filter((i) => i.below_province).length, belowT = items.filter((i) => i.below_target).length;
    summary.textContent = `${items.length} đơn vị (${level.toLowerCase()}), toàn tỉnh ${prov.text}${ind.unit === "%" ? "%" : " " + ind.unit}`
      + (ind.ratio ? `; ${belowP} đơn vị kém hơn tỷ lệ toàn tỉnh` : "")
      + (ind.has_target ? `; ${belowT} đơn vị chưa đạt chỉ tiêu giao` : "")
      + (ind.lower_better ? "; chỉ tiêu này càng thấp càng tốt" : "") + ".";
    const body = table.tBodies[0];
    body.replaceChildren(...shown.map((i) => {
      const tr = el("tr", { cls: [i.below_target ? "below-target" : "", i.below_province ? "below-province" : "",
                                  i.unit === unitSelect.value ? "selected" : ""].join(" ").trim(),
                            "data-unit": i.unit, "data-value": i.value, "data-testid": "rank-row" }, [
        el("td", { cls: "num", text: i.rank ?? "" }), el("td", { text: unitLabel(i.unit) }),
        el("td", { cls: "num", text: i.text ?? "—", "data-testid": "rank-value" }),
        el("td", { cls: "num", text: i.numerator_text ?? "" }),
        el("td", { cls: "num", text: (ind.has_target && !ind.ratio ? i.target_text : i.denominator_text) ?? "" }),
        el("td", { cls: "num", text: i.change_text ?? "—" }),
        el("td", {}, i.quality !== "ok" ? [el("span", { cls: "flag", title: i.why, text: "⚠ " + D.flag_mark[i.quality] })] : []),
      ]);
      tr.addEventListener("click", () => { unitSelect.value = i.unit; unitIndicator.value = code; renderUnit(); renderRanking(); });
      return tr;
    }));
    table.querySelectorAll("th[data-sort]").forEach((th) => {
      th.classList.toggle("sorted-asc", th.dataset.sort === state.key && state.dir === 1);
      th.classList.toggle("sorted-desc", th.dataset.sort === state.key && state.dir === -1);
    });
    const byRank = items.filter((i) => i.value !== null);
    rankChart.setOption({
      animation: false, grid: { left: 56, right: 16, top: 28, bottom: 40 },
      title: { text: ind.name, left: 8, top: 4, textStyle: { fontSize: 13 } },
      tooltip: { trigger: "axis", formatter: tooltipText((p) => byRank[p.dataIndex].text + ` (hạng ${byRank[p.dataIndex].rank})`, ind.unit) },
      xAxis: { type: "category", data: byRank.map((i) => unitLabel(i.unit)), axisLabel: { show: byRank.length <= 30, rotate: 40, fontSize: 10 } },
      yAxis: { type: "value", scale: !ind.ratio },
      dataZoom: byRank.length > 60 ? [{ type: "inside" }] : [],
      series: [{ type: "bar", data: byRank.map((i) => ({ value: i.value,
          itemStyle: { color: i.below_target ? "#c62828" : i.below_province ? "#ef8f00" : "#0b5cad" } })),
        markLine: ind.ratio && prov.value !== null ? { symbol: "none", silent: true, lineStyle: { color: "#1b1f24" },
          label: { formatter: `Toàn tỉnh ${prov.text}`, position: "insideEndTop" }, data: [{ yAxis: prov.value }] } : undefined }],
    }, true);
  }
  select.addEventListener("change", () => { state.code = select.value; renderRanking(); });
  search.addEventListener("input", renderRanking);
  table.querySelectorAll("th[data-sort]").forEach((th) => th.addEventListener("click", () => {
    state.dir = state.key === th.dataset.sort ? -state.dir : 1;
    state.key = th.dataset.sort;
    renderRanking();
  }));
  document.querySelectorAll("a.pick").forEach((a) => a.addEventListener("click", () => {
    state.code = select.value = a.dataset.code; renderRanking();
  }));

  /* One unit over the months: its own figures only (a unit is its level, code and validity). */
  const unitSelect = document.getElementById("unit-select"), unitIndicator = document.getElementById("unit-indicator");
  const unitChart = P06.chart(document.getElementById("unit-chart"));
  const unitTable = document.getElementById("unit-table"), unitNote = document.getElementById("unit-note");
  const byLevel = {};
  Object.entries(D.units).forEach(([key, u]) => (byLevel[u.level] = byLevel[u.level] || []).push([key, u]));
  Object.entries(byLevel).forEach(([level, list]) => {
    list.sort((a, b) => a[1].name.localeCompare(b[1].name, "vi"));
    unitSelect.append(el("optgroup", { label: D.levels[level] || level },
      list.map(([key, u]) => el("option", { value: key, text: u.name + (u.span ? ` (${u.span})` : "") }))));
  });
  const firstRanked = ranked(state.code).filter((i) => i.rank !== null);
  if (firstRanked.length) unitSelect.value = firstRanked[firstRanked.length - 1].unit;   // the unit that lags most

  function renderUnit() {
    const u = D.units[unitSelect.value];
    if (!u) return;
    const codes = Object.keys(D.indicators).filter((c) => u.series[c]);
    const keep = unitIndicator.value;
    unitIndicator.replaceChildren(...codes.map((c) => el("option", { value: c, text: D.indicators[c].name })));
    unitIndicator.value = codes.includes(keep) ? keep : codes.includes(state.code) ? state.code : codes[0];
    const code = unitIndicator.value, ind = D.indicators[code], s = u.series[code] || {}, prov = rows[code];
    const values = D.months.map((_, i) => (s[i] ? s[i][0] : null));
    unitNote.textContent = `${u.name}, ${(D.levels[u.level] || u.level).toLowerCase()}${u.span ? ", " + u.span : ""}. `
      + "Chỉ có số liệu của chính đơn vị này" + (D.breaks.length ? `; ${D.breaks[0].text}` : ".");
    unitChart.setOption({
      animation: false, grid: { left: 64, right: 16, top: 40, bottom: 30 },
      legend: { top: 4, data: [u.name, "Toàn tỉnh"] },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: D.months },
      yAxis: [{ type: "value", scale: true, name: ind.unit }, { type: "value", scale: true, show: ind.ratio ? false : true }],
      series: [
        { name: u.name, type: "line", data: values, connectNulls: false, symbolSize: 7, lineStyle: { width: 3 }, color: "#0b5cad",
          markLine: P06.breakLines(D.breaks, D.months, D.break_mark) },
        { name: "Toàn tỉnh", type: "line", data: prov ? prov.trend : [], yAxisIndex: ind.ratio ? 0 : 1,
          lineStyle: { type: "dashed" }, color: "#5b6470", symbolSize: 4, connectNulls: false },
      ],
    }, true);
    unitTable.tHead.replaceChildren(el("tr", {}, [el("th", { text: "Tháng" }),
      el("th", { cls: "num", text: `${u.name} (${ind.unit})` }), el("th", { cls: "num", text: "Toàn tỉnh" })]));
    unitTable.tBodies[0].replaceChildren(...D.months.map((m, i) => [m, i]).filter(([, i]) => s[i] || (prov && prov.trend_text[i]))
      .map(([m, i]) => el("tr", { "data-testid": "unit-month", "data-month": m }, [el("td", { text: m }),
        el("td", { cls: "num", text: s[i] ? s[i][1] ?? "—" : "—" }), el("td", { cls: "num", text: prov && prov.trend_text[i] || "—" })])));
  }
  unitSelect.addEventListener("change", () => { renderUnit(); renderRanking(); });
  unitIndicator.addEventListener("change", renderUnit);

  renderUnit();
  performance.mark("unit");
  renderRanking();
  performance.mark("ranking");
  document.body.dataset.ready = "1";
})();
