// The grid map (网格地图): each grid's boundary from the map endpoint's GeoJSON, coloured by
// overdue needs or by visit coverage (a toggle), with a legend, labels, a popup with the grid's
// numbers and a link to its figures, and the households as small dots. A tile layer only when
// the server names one (settings.MAP_TILE_URL); otherwise the boundaries on a plain background.

import * as L from 'leaflet/dist/leaflet-src.esm.js';
import 'leaflet/dist/leaflet.css';

import { h } from './dom.js';
import { num, pct } from './format.js';
import { MODES } from './map-words.js';

function popup(p, hrefFor) {
  return h(
    'div',
    { class: 'map-popup' },
    h('strong', {}, p.name),
    p.community ? h('span', { class: 'muted' }, ` · ${p.community}`) : null,
    h(
      'dl',
      {},
      h('dt', {}, '未办结需求'),
      h('dd', {}, `${num(p.open)} 件`),
      h('dt', {}, '超期需求'),
      h('dd', {}, `${num(p.overdue)} 件`),
      h('dt', {}, '本季度走访'),
      h('dd', {}, `${num(p.visited)}/${num(p.households)} 户（${pct(p.coverage)}）`),
    ),
    h('a', { href: hrefFor(p.grid_id), dataset: { test: 'map-grid-link' } }, '查看该网格的数据 →'),
  );
}

/**
 * Draw the map into `box` (an empty element of the map card); `hrefFor(gridId)` is the link to a
 * grid's figures. Returns { map, setMode } or null when nothing has a boundary.
 */
export function drawMap(box, collection, { hrefFor, mode = 'overdue' } = {}) {
  const grids = collection.features.filter((f) => f.properties.kind === 'grid');
  const homes = collection.features.filter((f) => f.properties.kind === 'household');
  if (!grids.length) return null;

  const map = L.map(box, {
    attributionControl: Boolean(collection.tile_url),
    zoomSnap: 0.25,
    scrollWheelZoom: false, // the page scrolls; zoom with the buttons or two fingers
  });
  if (collection.tile_url) {
    L.tileLayer(collection.tile_url, {
      attribution: collection.tile_attribution || '',
      maxZoom: 19,
    }).addTo(map);
  } else {
    box.classList.add('plain');
  }

  let current = MODES[mode] ? mode : 'overdue';
  const style = (feature) => ({
    color: '#1f2328',
    weight: 1.5,
    fillColor: MODES[current].color(feature.properties),
    fillOpacity: collection.tile_url ? 0.45 : 0.65,
  });
  const layer = L.geoJSON(
    { type: 'FeatureCollection', features: grids },
    {
      style,
      onEachFeature: (feature, lyr) => {
        const p = feature.properties;
        lyr.bindTooltip(p.name, { permanent: true, direction: 'center', className: 'grid-label' });
        lyr.bindPopup(() => popup(p, hrefFor));
        lyr.on('add', () => lyr.getElement && lyr.getElement()?.setAttribute('data-grid-id', p.grid_id));
      },
    },
  ).addTo(map);
  layer.eachLayer((lyr) => lyr.getElement()?.setAttribute('data-grid-id', lyr.feature.properties.grid_id));

  // Households: many small dots, drawn on one canvas (an SVG element each would be slow).
  if (homes.length) {
    const dots = L.canvas({ padding: 0.2 });
    for (const f of homes) {
      const [lng, lat] = f.geometry.coordinates;
      L.circleMarker([lat, lng], {
        renderer: dots,
        radius: 4,
        color: '#ffffff',
        weight: 1.5,
        fillColor: '#1f2328',
        fillOpacity: 1,
        interactive: false,
      }).addTo(map);
    }
  }

  // The legend under the map, not on it: on a phone it would hide a part of the grids.
  const legend = h('div', { class: 'map-legend', dataset: { test: 'map-legend' } });
  box.after(legend);
  const drawLegend = () => {
    legend.replaceChildren(
      h('strong', {}, `${MODES[current].label.replace('按', '')}：`),
      ...MODES[current].legend.map((item) => h('span', {}, h('i', { style: `background:${item.color}` }), item.text)),
      homes.length ? h('span', {}, h('i', { class: 'dot' }), '住户') : null,
    );
  };
  drawLegend();

  // A street's map holds several communities, often far apart: each one's name over its
  // grids, shown while the grids are too small on screen for their own labels.
  const communities = new Map();
  layer.eachLayer((lyr) => {
    const name = lyr.feature.properties.community;
    if (!name) return;
    const bounds = communities.get(name);
    communities.set(name, bounds ? bounds.extend(lyr.getBounds()) : L.latLngBounds(lyr.getBounds().getSouthWest(), lyr.getBounds().getNorthEast()));
  });
  const communityLabels =
    communities.size > 1
      ? [...communities].map(([name, bounds]) => ({
          bounds,
          label: L.tooltip({ permanent: true, direction: 'top', className: 'community-label', offset: [0, -4] })
            .setLatLng([bounds.getNorth(), bounds.getCenter().lng])
            .setContent(name)
            .addTo(map),
        }))
      : [];

  // A label shows only where its grid is wide enough on screen for it: small grids at a low
  // zoom keep their colour and popup, and labels never pile on each other.
  const declutter = () => {
    if (!sized()) return;
    for (const { bounds, label } of communityLabels) {
      const nw = map.latLngToContainerPoint(bounds.getNorthWest());
      const se = map.latLngToContainerPoint(bounds.getSouthEast());
      label.getElement()?.style.setProperty('visibility', se.x - nw.x < 240 ? 'visible' : 'hidden');
    }
    layer.eachLayer((lyr) => {
      const label = lyr.getTooltip()?.getElement();
      if (!label) return;
      const nw = map.latLngToContainerPoint(lyr.getBounds().getNorthWest());
      const se = map.latLngToContainerPoint(lyr.getBounds().getSouthEast());
      const fits = se.x - nw.x >= label.offsetWidth + 4 && se.y - nw.y >= label.offsetHeight;
      label.style.visibility = fits ? '' : 'hidden';
    });
  };
  map.on('zoomend moveend resize', declutter);
  // As tall as the area's shape needs at this width (a row of village groups is wide and
  // low), between a phone's and a desktop's usual map heights.
  const bounds = layer.getBounds();
  const ratio =
    (bounds.getNorth() - bounds.getSouth()) /
    Math.max(1e-9, bounds.getEast() - bounds.getWest()) /
    Math.cos((bounds.getCenter().lat * Math.PI) / 180);
  // A container with no size (not laid out yet, or hidden) has no zoom to fit: wait for one.
  const sized = () => box.clientWidth > 0 && box.clientHeight > 0;
  const shape = () => {
    if (window.matchMedia('print').matches || !box.clientWidth) return;
    const height = Math.round(Math.min(460, Math.max(220, box.clientWidth * ratio + 80)));
    box.style.height = `${height}px`;
    map.invalidateSize({ animate: false });
  };
  shape();

  const fit = () => {
    if (!sized()) return;
    // Room above for the community names (a label sits over its community's grids).
    const top = communityLabels.length ? 40 : 12;
    map.fitBounds(layer.getBounds(), { paddingTopLeft: [12, top], paddingBottomRight: [12, 12] });
    declutter();
  };
  fit();
  return {
    map,
    fit,
    shape,
    setMode(next) {
      if (!MODES[next]) return;
      current = next;
      layer.setStyle(style);
      drawLegend();
    },
  };
}
