#!/usr/bin/env python3
"""Builds penlab's built-in head and neck (simulator/data/face/) from
MediaPipe's canonical face model.

Usage (from the repository root):

    npm pack @mediapipe/face_mesh@0.4.1657299874      # Apache-2.0
    python3 simulator/tools/face/build_face.py mediapipe-face_mesh-0.4.1657299874.tgz simulator/data/face

Needs numpy, scipy and trimesh (Loop subdivision). Deterministic: the same
package gives the same files.

How the head is made (lengths in mm, x to the subject's right, y forward, z up):
1. The canonical face (468 vertices, 898 triangles, eyes and lips closed) is
   read from the binary proto inside the npm package, converted from cm to mm
   and smoothed by two steps of Loop subdivision.
2. A base head is an implicit surface: a superellipsoid cranium, a neck
   cylinder and a jaw (a tube along the face's jaw line landmarks plus a
   floor-of-mouth ellipsoid), joined with smooth minima.
3. The surface is sampled as a geometry image: a "head chart" of rays from a
   centre behind the eyes (azimuth x elevation) and a "neck chart" of
   horizontal rays from the neck axis below the head chart's lowest ring.
   On the head chart the face replaces the base; the difference is carried
   out across a band by a thin-plate (least squared Laplacian) fill, so the
   face blends into the head with no step.
4. The closed eyelids get a lid line, a lid crease and the bulge of the globe;
   stylised ears are added as a relief. These are sculpted, not measured.
5. Zones come from landmark-based rules (see classify()).
"""
import re, struct, sys, tarfile, zlib
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.ndimage import binary_erosion, distance_transform_edt
from scipy.sparse.linalg import spsolve
from trimesh.remesh import subdivide_loop

ASSET = "geometry_pipeline_metadata_landmarks.binarypb"


# ---------------------------------------------------------------- MediaPipe
def read_package(tgz):
    with tarfile.open(tgz) as t:
        loader = t.extractfile("package/face_mesh_solution_packed_assets_loader.js").read().decode()
        data = t.extractfile("package/face_mesh_solution_packed_assets.data").read()
        meta = t.extractfile("package/package.json").read().decode()
    m = re.search(r'"filename": "[^"]*' + re.escape(ASSET) + r'", "start": (\d+), "end": (\d+)', loader)
    if not m:
        sys.exit("the package has no " + ASSET)
    return data[int(m.group(1)):int(m.group(2))], meta


def varint(b, i):
    r = s = 0
    while True:
        c = b[i]; i += 1; r |= (c & 0x7F) << s; s += 7
        if c < 0x80:
            return r, i


def fields(b):
    i = 0
    while i < len(b):
        k, i = varint(b, i); f, w = k >> 3, k & 7
        if w == 0:
            v, i = varint(b, i)
        elif w == 2:
            n, i = varint(b, i); v = b[i:i + n]; i += n
        elif w == 5:
            v = b[i:i + 4]; i += 4
        elif w == 1:
            v = b[i:i + 8]; i += 8
        else:
            sys.exit("unexpected wire type")
        yield f, w, v


def canonical_mesh(proto):
    """GeometryPipelineMetadata.canonical_mesh (field 1): Mesh3d with
    vertex_buffer (3) of x, y, z, u, v floats and index_buffer (4)."""
    vb, ib = [], []
    for f, _, v in fields(proto):
        if f != 1:
            continue
        for f2, w2, v2 in fields(v):
            if f2 == 3:
                vb.extend(struct.unpack("<%df" % (len(v2) // 4), v2) if w2 == 2 else struct.unpack("<f", v2))
            elif f2 == 4:
                if w2 == 0:
                    ib.append(v2)
                else:
                    i = 0
                    while i < len(v2):
                        x, i = varint(v2, i); ib.append(x)
    v = np.array(vb).reshape(-1, 5)
    return v[:, :3], np.array(ib).reshape(-1, 3)


# ---------------------------------------------------------------- helpers
def smooth01(x):
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


def wrap(a):
    return np.angle(np.exp(1j * a))


def smin(a, b, k):
    h = np.clip(0.5 + 0.5 * (b - a) / k, 0, 1)
    return b * (1 - h) + a * h - k * h * (1 - h)


def thin_plate_fill(val, known):
    """Fills unknown cells minimising the squared index-space Laplacian
    (columns periodic); known cells keep their values."""
    R, Cn = val.shape
    idx = np.arange(R * Cn).reshape(R, Cn)
    ii, jj = np.meshgrid(np.arange(1, R - 1), np.arange(Cn), indexing="ij")
    ii = ii.ravel(); jj = jj.ravel(); n = len(ii); rid = np.arange(n)
    rows = [rid] * 5
    cols = [idx[ii, jj], idx[ii - 1, jj], idx[ii + 1, jj], idx[ii, (jj - 1) % Cn], idx[ii, (jj + 1) % Cn]]
    data = [np.full(n, -4.0)] + [np.ones(n)] * 4
    L = sparse.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=(n, R * Cn))
    kn = known.ravel()
    LU, LK = L[:, ~kn], L[:, kn]
    out = val.ravel().copy()
    out[~kn] = spsolve((LU.T @ LU).tocsc(), -(LU.T @ (LK @ out[kn])))
    return out.reshape(R, Cn)


def seg_dist(p, a, b):
    pa = p - a; ba = b - a
    h = np.clip((pa @ ba) / (ba @ ba), 0, 1)
    return np.linalg.norm(pa - h[..., None] * ba, axis=-1)


def polyline_dist(p, pts):
    d = np.full(p.shape[:-1], np.inf)
    for a, b in zip(pts[:-1], pts[1:]):
        d = np.minimum(d, seg_dist(p, a, b))
    return d


# ---------------------------------------------------------------- the head
class Head:
    def __init__(self, E):
        self.E = E
        self.C = np.array([0, -40.0, 5.0])           # ray centre of the head chart
        self.menton_z = E[152, 2]
        self.base_z = self.menton_z - 120             # base of the neck
        self.cr_c = np.array([0, -40.0, 24.0])        # cranium
        self.cr_ax = np.array([76.0, 97.0, 110.0])
        jaw = [132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361]
        J = E[jaw]
        inward = np.stack([-J[:, 0], -(J[:, 1] + 40), np.zeros(len(J))], 1)
        inward /= np.linalg.norm(inward, axis=1, keepdims=True)
        self.rho = 16.0
        self.jaw_c = J + inward * self.rho * 0.9 + np.array([0, 0, self.rho * 0.55])

    def axis(self, z):
        y = np.interp(z, [self.base_z, self.menton_z - 30], [-62, -47])
        return np.stack([np.zeros_like(z), y, z], -1)

    def f_cranium(self, p, n=2.4):
        q = np.abs((p - self.cr_c) / self.cr_ax)
        return ((q ** n).sum(-1) ** (1 / n) - 1) * 76

    def f_neck(self, p):
        z = p[..., 2]; a = self.axis(z)
        t = smooth01((z - self.base_z) / 35)
        ra = 64 - 7 * t; rb = 60 - 6 * t
        e = (np.sqrt((p[..., 0] / ra) ** 2 + ((p[..., 1] - a[..., 1]) / rb) ** 2) - 1) * 54
        return np.maximum(e, z - (self.C[2] - 10))

    def f_jaw(self, p):
        f = np.full(p.shape[:-1], np.inf)
        for a, b in zip(self.jaw_c[:-1], self.jaw_c[1:]):
            f = np.minimum(f, seg_dist(p, a, b) - self.rho)
        q = (p - np.array([0, 5.0, -45.0])) / np.array([52.0, 45.0, 40.0])
        return smin(f, (np.linalg.norm(q, axis=-1) - 1) * 40, 12)

    def F(self, p):
        return smin(smin(self.f_cranium(p), self.f_neck(p), 20), self.f_jaw(p), 14)

    def outer_hit(self, o, dv, smax=200.0, step=2.0):
        """Distance along each ray to the outermost crossing of the base."""
        sh = o.shape[:-1]; o = o.reshape(-1, 3); dv = dv.reshape(-1, 3)
        n = len(o); found = np.zeros(n, bool); lo = np.zeros(n); hi = np.full(n, smax)
        for s in np.arange(smax, 0, -step):
            new = (self.F(o + dv * s) < 0) & ~found
            lo[new] = s; hi[new] = s + step; found |= new
            if found.all():
                break
        for _ in range(26):
            mid = (lo + hi) / 2
            inside = self.F(o + dv * mid[:, None]) < 0
            lo = np.where(inside, mid, lo); hi = np.where(inside, hi, mid)
        return ((lo + hi) / 2).reshape(sh)


def lowest_elevation(psi):
    """The head chart's lowest ray: steep under the chin, shallow at the nape."""
    a = np.abs(wrap(psi))
    return np.radians(-68) + np.radians(33) * smooth01((a - np.radians(30)) / np.radians(80))


def layout(nc, nrh):
    """Column azimuths (u = i / nc, front denser) and head-chart row
    parameters (elevation from the lowest ray to the crown, scalp sparser)."""
    pf = np.linspace(np.pi, -np.pi, 20001)
    w = 0.4 + 0.6 * (1 - smooth01((np.abs(pf) - np.radians(95)) / np.radians(30)))
    cu = np.concatenate([[0], np.cumsum((w[1:] + w[:-1]) / 2)]); cu /= cu[-1]
    psi = np.interp(np.linspace(0, 1, nc + 1), cu, pf)
    sf = np.linspace(0, 1, 20001)
    bf = np.radians(-68) + (np.pi / 2 + np.radians(68)) * sf
    ws = np.where(bf < np.radians(55), 1.0, 0.45)
    cs = np.concatenate([[0], np.cumsum((ws[1:] + ws[:-1]) / 2)]); cs /= cs[-1]
    return psi, np.interp(np.linspace(0, 1, nrh + 1), cs, sf)


def rasterise(values_at, ci, rj, tris, shape):
    """Per grid node, the outermost value of the triangles covering it
    (triangles given in fractional grid coordinates)."""
    out = np.full(shape, np.nan)
    for t in tris:
        xs, ys, zs = ci[t], rj[t], values_at[t]
        x0, x1 = int(np.ceil(xs.min())), int(np.floor(xs.max()))
        y0, y1 = int(np.ceil(ys.min())), int(np.floor(ys.max()))
        if x1 < x0 or y1 < y0:
            continue
        d = (xs[1] - xs[0]) * (ys[2] - ys[0]) - (xs[2] - xs[0]) * (ys[1] - ys[0])
        if abs(d) < 1e-12:
            continue
        gx, gy = np.meshgrid(np.arange(x0, x1 + 1), np.arange(y0, y1 + 1))
        w1 = ((gx - xs[0]) * (ys[2] - ys[0]) - (xs[2] - xs[0]) * (gy - ys[0])) / d
        w2 = ((xs[1] - xs[0]) * (gy - ys[0]) - (gx - xs[0]) * (ys[1] - ys[0])) / d
        w0 = 1 - w1 - w2
        m = (w0 >= -1e-9) & (w1 >= -1e-9) & (w2 >= -1e-9)
        z = w0 * zs[0] + w1 * zs[1] + w2 * zs[2]
        cur = out[gy[m], gx[m]]
        out[gy[m], gx[m]] = np.where(np.isnan(cur), z[m], np.maximum(cur, z[m]))
    return out


def eye_relief(E, P):
    """Radial offset (mm) that shapes the closed eyes: the globe's bulge
    under the lids, the lid line and the upper lid crease."""
    off = np.zeros(P.shape[:-1])
    for side in (1, -1):
        upper = [246, 161, 160, 159, 158, 157, 173] if side == 1 else [466, 388, 387, 386, 385, 384, 398]
        lower = [7, 163, 144, 145, 153, 154, 155] if side == 1 else [249, 390, 373, 374, 380, 381, 382]
        outer, inner = (33, 133) if side == 1 else (263, 362)
        line = np.vstack([E[outer], (E[upper] + E[lower]) / 2, E[inner]])
        centre = line.mean(0)
        d = polyline_dist(P, line)
        rho = np.linalg.norm((P - centre)[..., [0, 2]] / np.array([15.0, 9.0]), axis=-1)
        off += 1.6 * np.clip(1 - rho ** 2, 0, 1) ** 1.5            # globe under the lids
        off -= 1.1 * np.exp(-(d / 1.3) ** 2) * (rho < 1.15)        # lid line
        crease = line + np.array([0, -1.0, 6.5]) * np.sin(np.linspace(0, np.pi, len(line)))[:, None] ** 0.5
        off -= 0.7 * np.exp(-(polyline_dist(P, crease) / 1.6) ** 2) * (rho < 1.3)
    return off


def ear_relief(psi, beta, head):
    """Stylised ears (helix rim, concha) on the head chart, by azimuth and
    elevation from the head chart's centre."""
    off = np.zeros(psi.shape)
    for side in (1, -1):
        # ear centre: behind the tragion, at eye-to-nose-base height
        x = (np.abs(wrap(psi - side * np.radians(99)))) / np.radians(13)
        y = (beta - np.radians(-2)) / np.radians(24)
        e = np.where(np.abs(wrap(psi - side * np.radians(99))) < np.pi / 2, np.sqrt(x ** 2 + y ** 2), np.inf)
        back = smooth01((np.abs(wrap(psi)) - np.radians(92)) / np.radians(16))
        body = np.clip(1 - e ** 2, 0, 1) ** 0.6
        off += (4 + 12 * back) * body * (e < 1)
        off += 2.5 * np.exp(-((e - 0.8) / 0.12) ** 2) * (e < 1.05)      # helix rim
        off -= 5 * np.clip(1 - (e / 0.45) ** 2, 0, 1)                    # concha
    return off


# ---------------------------------------------------------------- zones
ZONES = ["forehead", "temples", "periorbital", "eyelids", "nose", "cheeks", "perioral",
         "lips", "chin", "jawline", "neck", "ears", "scalp"]


def interp_profile(z, zs, xs):
    return np.interp(z, zs, xs, left=np.nan, right=np.nan)


def classify(E, P, psi, in_neck_chart, ear_mask):
    """Zone index per cell from its centre P (mm, pre-translation frame)."""
    X, Y, Z = np.abs(P[..., 0]), P[..., 1], P[..., 2]
    a = np.abs(wrap(psi))
    zone = np.full(P.shape[:-1], ZONES.index("scalp"), np.uint8)
    set_ = lambda m, name: np.putmask(zone, m, ZONES.index(name))
    front = Y > -22
    # jaw line (front projection), from the face oval's lower landmarks
    jaw = E[[152, 148, 176, 149, 150, 136, 172, 58, 132, 93]]
    jaw_z = np.interp(X, np.abs(jaw[:, 0]), jaw[:, 2])
    hair_z = np.interp(X, [0, 30, 45, 55, 65, 80], [94, 92, 88, 80, 70, 40])
    below_jaw = Z < jaw_z - 2
    # neck: the neck chart, below the jaw in front, below the nape hairline behind
    set_(in_neck_chart | (front & below_jaw & (X < 70)) | ((~front) & (Z < -28 - 20 * smooth01((a - np.radians(95)) / np.radians(40)))), "neck")
    face = front & ~below_jaw & (Z < hair_z) & ~in_neck_chart
    set_(face, "cheeks")
    # temples: lateral to the forehead, above the cheekbone, in front of the ear
    set_(face & (Z > 12) & (X > np.interp(Z, [12, 50, 90], [50, 52, 44])), "temples")
    set_(face & (Z >= 38) & (X <= np.interp(Z, [38, 50, 90], [50, 52, 44])), "forehead")
    # jaw line: a band along the mandible's lower border, lateral to the chin
    jl = face & (Z < jaw_z + 13) & (X > 21) & (Z < -20)
    set_(jl, "jawline")
    set_(front & below_jaw & (Z > jaw_z - 9) & (X > 21) & (X < 70), "jawline")
    # chin: below the labiomental crease, between the mouth-corner verticals
    set_(face & (X <= 25) & (Z < -60), "chin")
    # perioral: nose base to the labiomental crease, inside the nasolabial folds
    nl = np.interp(Z, [-60, -45, -10], [30, 34, 20])
    set_(face & (Z <= -18) & (Z >= -60) & (X < nl), "perioral")
    zu = -34.1 - 9.3 * np.clip(X / 24.6, 0, 1) ** 1.6
    zl = -53.7 + 10.3 * np.clip(X / 24.6, 0, 1) ** 1.8
    set_(face & (X < 24.6) & (Z < zu) & (Z > zl), "lips")
    # nose: between the inner canthi, down to the alar base
    hw = interp_profile(Z, [-21, -17, -9, 0, 12, 24, 34], [12, 18, 19.5, 14, 11, 10, 8])
    nose = face & (X < np.nan_to_num(hw, nan=-1)) & (Y > 40)
    # periorbital: the orbit, brow to infraorbital rim; eyelids over the globe
    for side in (1, -1):
        sx = P[..., 0] * side
        orbit = ((sx - 32) / 26) ** 2 + ((Z - 24) / 18) ** 2 < 1
        set_(face & orbit & (sx > 0), "periorbital")
    set_(nose, "nose")
    for side, (o, i) in ((1, (33, 133)), (-1, (263, 362))):
        lid = seg_dist(P * np.array([1, 0, 1]), E[o] * np.array([1, 0, 1]), E[i] * np.array([1, 0, 1])) < 5.0
        set_(face & lid & (P[..., 0] * side > 0), "eyelids")
    set_(ear_mask, "ears")
    return zone


# ---------------------------------------------------------------- output
def png(path, arr, bit16):
    """Writes a greyscale (2-D) or RGB (3-D) PNG, 8 or 16 bit, Sub-filtered."""
    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]; ch = 1 if arr.ndim == 2 else arr.shape[2]
    raw = arr.astype(">u2" if bit16 else "u1").reshape(h, w * ch).view(np.uint8).reshape(h, -1)
    bpp = ch * (2 if bit16 else 1)
    sub = raw.copy(); sub[:, bpp:] = (raw[:, bpp:].astype(np.int16) - raw[:, :-bpp]) % 256
    body = b"".join(b"\x01" + row.tobytes() for row in sub)
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 16 if bit16 else 8, 0 if ch == 1 else 2, 0, 0, 0)
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(body, 9)) + chunk(b"IEND", b""))


def head_chart(head, E, SV, SF, psi, sh):
    """The head chart's points for column azimuths psi and row parameters sh."""
    C = head.C; nc = len(psi) - 1; nrh = len(sh) - 1
    SH, PS = np.meshgrid(sh, psi, indexing="ij")
    LB = lowest_elevation(PS); BETA = LB + (np.pi / 2 - LB) * SH
    D = np.stack([np.sin(PS) * np.cos(BETA), np.cos(PS) * np.cos(BETA), np.sin(BETA)], -1)
    O = np.broadcast_to(C, D.shape)
    r_base = head.outer_hit(O, D)
    # the face on the head chart
    rel = SV - C; rr = np.linalg.norm(rel, axis=1)
    vpsi = np.arctan2(rel[:, 0], rel[:, 1]); vbeta = np.arcsin(rel[:, 2] / rr)
    ci = np.interp(vpsi, psi[::-1], np.arange(nc + 1)[::-1].astype(float))
    rj = np.interp((vbeta - lowest_elevation(vpsi)) / (np.pi / 2 - lowest_elevation(vpsi)), sh, np.arange(nrh + 1).astype(float))
    r_face = rasterise(rr, ci, rj, SF, r_base.shape)
    covered = ~np.isnan(r_face)
    face = binary_erosion(covered, iterations=4)           # the oval's edge is blended, not kept
    P0 = O + D * np.where(covered, r_face, r_base)[..., None]
    r_face = np.where(covered, r_face + eye_relief(E, P0), np.nan)
    dist = distance_transform_edt(~face)
    known = face | (dist > 16); known[0, :] = True
    res = thin_plate_fill(np.where(face, r_face - r_base, 0.0), known)
    ears = ear_relief(PS, BETA, head)
    r_head = r_base + res + ears
    return O + D * r_head[..., None], PS, BETA, ears


def even_layout(PH, psi, sh):
    """New azimuths and row parameters with even mm spacing over the face:
    arc length along the front columns (|psi| < 50 deg) sets the rows, along
    the face's rows (elevation -45 to 45 deg) the columns; the scalp and the
    back of the head keep their lower weights."""
    front = np.abs(wrap(psi)) < np.radians(50)
    step_v = np.linalg.norm(np.diff(PH, axis=0), axis=-1)[:, front].mean(1)
    beta_mid = np.radians(-68) + (np.pi / 2 + np.radians(68)) * (sh[1:] + sh[:-1]) / 2
    step_v = step_v * np.where(beta_mid < np.radians(55), 1.0, 0.45)
    cv = np.concatenate([[0], np.cumsum(step_v)]); cv /= cv[-1]
    rows = (sh[1:] + sh[:-1]) / 2
    mid = np.radians(-68) + (np.pi / 2 + np.radians(68)) * rows
    band = (mid > np.radians(-45)) & (mid < np.radians(45))
    step_u = np.linalg.norm(np.diff(PH, axis=1), axis=-1)[:-1][band].mean(0)
    pm = (psi[1:] + psi[:-1]) / 2
    step_u = step_u * (0.4 + 0.6 * (1 - smooth01((np.abs(pm) - np.radians(95)) / np.radians(30))))
    cu = np.concatenate([[0], np.cumsum(step_u)]); cu /= cu[-1]
    n_c, n_r = len(psi), len(sh)
    return (np.interp(np.linspace(0, 1, n_c), cu, psi), np.interp(np.linspace(0, 1, n_r), cv, sh))


def build(tgz, out, nc=256, nrh=170, nrn=34):
    proto, meta = read_package(tgz)
    MV, MF = canonical_mesh(proto)
    MV = MV * 10.0                                         # cm -> mm
    E = np.stack([-MV[:, 0], MV[:, 2], MV[:, 1]], 1)       # MediaPipe (x left, y up, z fwd) -> (x right, y fwd, z up)
    head = Head(E); C = head.C
    SV, SF = subdivide_loop(E, MF, iterations=2)
    psi, sh = layout(nc, nrh)
    # Two passes: the second spaces rows and columns evenly in mm over the
    # face (measured on the first), so patterns laid in UV land evenly.
    PH, _, _, _ = head_chart(head, E, SV, SF, psi, sh)
    psi, sh = even_layout(PH, psi, sh)
    PH, PS, BETA, ears = head_chart(head, E, SV, SF, psi, sh)
    # neck chart: below the head chart's lowest ring, horizontal rays from the axis
    Q = PH[0]
    ax0 = head.axis(Q[:, 2]); phi = np.arctan2(Q[:, 0] - ax0[:, 0], Q[:, 1] - ax0[:, 1])
    k = np.linspace(0, 1, nrn + 1)[:-1]
    Zn = head.base_z + (Q[None, :, 2] - head.base_z) * k[:, None]
    On = head.axis(Zn)
    Dn = np.stack([np.sin(phi)[None, :] * np.ones_like(Zn), np.cos(phi)[None, :] * np.ones_like(Zn), np.zeros_like(Zn)], -1)
    PN = On + Dn * head.outer_hit(On, Dn)[..., None]
    P = np.concatenate([PN, PH], 0)
    P[-1] = P[-1].mean(0)                                  # the crown: one point
    P[:, -1] = P[:, 0]                                     # the seam: the same points
    # zones per cell
    Pc = (P[:-1, :-1] + P[1:, :-1] + P[1:, 1:] + P[:-1, 1:]) / 4
    psi_c = np.concatenate([np.broadcast_to(((phi[:-1] + phi[1:]) / 2)[None], (nrn, nc)),
                            np.broadcast_to(((psi[:-1] + psi[1:]) / 2)[None], (nrh, nc))], 0)
    in_neck = np.zeros((nrn + nrh, nc), bool); in_neck[:nrn] = True
    ear_c = np.zeros((nrn + nrh, nc), bool)
    ec = (ears[:-1, :-1] + ears[1:, 1:]) / 2
    ear_c[nrn:] = ec > 1.0
    zones = classify(E, Pc, psi_c, in_neck, ear_c)
    # final frame: z = 0 at the base of the neck, y = 0 at the head chart's centre
    P = P - np.array([0.0, C[1], head.base_z])
    lo = P.reshape(-1, 3).min(0); hi = P.reshape(-1, 3).max(0)
    lo = np.floor(lo) ; hi = np.ceil(hi)
    q = np.round((P - lo) / (hi - lo) * 65535).astype(np.uint16)
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    png(out / "face-geometry.png", q[::-1], True)        # PNG row 0 = the crown (top of the image)
    png(out / "face-zones.png", zones[::-1], False)
    version = re.search(r'"version": "([^"]+)"', meta).group(1)
    toml = f'''# The built-in head and neck as a geometry image; see README.md beside this file.
format = "penlab-geometry-image"
version = 1
columns = {nc}
rows = {nrn + nrh}
geometry = "face-geometry.png"
zone_map = "face-zones.png"
min_mm = [{lo[0]:.1f}, {lo[1]:.1f}, {lo[2]:.1f}]
max_mm = [{hi[0]:.1f}, {hi[1]:.1f}, {hi[2]:.1f}]
zones = [{", ".join('"%s"' % z for z in ZONES)}]
source = "MediaPipe canonical face model from npm @mediapipe/face_mesh {version} (Apache-2.0), head and neck built by simulator/tools/face/build_face.py"
'''
    (out / "face.toml").write_text(toml)
    return P, zones


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    build(sys.argv[1], sys.argv[2])
