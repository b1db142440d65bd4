"""Shaded orthographic renders of a triangle mesh (z-buffer, per-pixel
Gouraud-interpolated normals), for looking at the face mesh."""
import sys, numpy as np
from PIL import Image, ImageDraw

def load_obj(path):
    V=[];T=[];F=[];G=[];names=[];cur=-1
    for line in open(path):
        w=line.split()
        if not w: continue
        if w[0]=='v': V.append([float(x) for x in w[1:4]])
        elif w[0]=='vt': T.append([float(x) for x in w[1:3]])
        elif w[0] in ('g','o'):
            names.append(w[1] if len(w)>1 else ''); cur=len(names)-1
        elif w[0]=='f':
            F.append([int(x.split('/')[0])-1 for x in w[1:4]]); G.append(cur)
    return np.array(V),np.array(T),np.array(F),np.array(G),names

def vnormals(V,F):
    n=np.cross(V[F[:,1]]-V[F[:,0]],V[F[:,2]]-V[F[:,0]])
    N=np.zeros_like(V)
    for k in range(3): np.add.at(N,F[:,k],n)
    # weld by position so seams shade smoothly
    key=np.round(V,4); _,inv=np.unique(key,axis=0,return_inverse=True)
    inv=inv.ravel(); S=np.zeros((inv.max()+1,3)); np.add.at(S,inv,N); N=S[inv]
    return N/np.maximum(np.linalg.norm(N,axis=1,keepdims=True),1e-12)

def render(V,F,yaw_deg,size=420,colors=None,pitch_deg=0.0,up=2,fwd=1,bounds=None):
    """View from direction at yaw (0 = from +fwd axis), z up."""
    a=np.radians(yaw_deg); p=np.radians(pitch_deg)
    # camera basis in engine frame (x right, y forward, z up): view dir d points from camera to object
    eye=np.array([np.sin(a)*np.cos(p), np.cos(a)*np.cos(p), np.sin(p)])  # camera position direction
    upv=np.array([0,0,1.0]); right=np.cross(upv,eye); right/=np.linalg.norm(right)
    camup=np.cross(eye,right)
    P=np.stack([V@right, V@camup, V@eye],1)
    N=vnormals(V,F); Nc=np.stack([N@right,N@camup,N@eye],1)
    lo,hi=(bounds if bounds is not None else (P[:,:2].min(0),P[:,:2].max(0)))
    c=(lo+hi)/2; s=(size*0.92)/max(hi-lo)
    X=(P[:,0]-c[0])*s+size/2; Y=size/2-(P[:,1]-c[1])*s
    Z=P[:,2]
    zb=np.full((size,size),-np.inf); img=np.zeros((size,size,3))
    img[:]=(0.15,0.16,0.18)
    L=np.array([0.35,0.45,0.82]); L/=np.linalg.norm(L)
    for t,(i,j,k) in enumerate(F):
        xs=np.array([X[i],X[j],X[k]]); ys=np.array([Y[i],Y[j],Y[k]])
        x0=max(int(np.floor(xs.min())),0); x1=min(int(np.ceil(xs.max())),size-1)
        y0=max(int(np.floor(ys.min())),0); y1=min(int(np.ceil(ys.max())),size-1)
        if x1<x0 or y1<y0: continue
        d=(xs[1]-xs[0])*(ys[2]-ys[0])-(xs[2]-xs[0])*(ys[1]-ys[0])
        if abs(d)<1e-12: continue
        gx,gy=np.meshgrid(np.arange(x0,x1+1)+0.5,np.arange(y0,y1+1)+0.5)
        w1=((gx-xs[0])*(ys[2]-ys[0])-(xs[2]-xs[0])*(gy-ys[0]))/d
        w2=((xs[1]-xs[0])*(gy-ys[0])-(gx-xs[0])*(ys[1]-ys[0]))/d
        w0=1-w1-w2
        m=(w0>=-1e-9)&(w1>=-1e-9)&(w2>=-1e-9)
        if not m.any(): continue
        z=w0*Z[i]+w1*Z[j]+w2*Z[k]
        sub=zb[y0:y1+1,x0:x1+1]
        m&=z>sub
        if not m.any(): continue
        sub[m]=z[m]
        n=(w0[m,None]*Nc[i]+w1[m,None]*Nc[j]+w2[m,None]*Nc[k])
        n/=np.maximum(np.linalg.norm(n,axis=1,keepdims=True),1e-12)
        # two-sided: back faces shaded dark red so holes/inside show
        facing=n[:,2]
        lam=np.clip(n@L,0,1)
        base=np.array(colors[t]) if colors is not None else np.array([0.93,0.78,0.68])
        col=base[None,:]*(0.28+0.72*lam[:,None])
        col[facing<0]=(0.5,0.05,0.05)
        img[y0:y1+1,x0:x1+1][m]=col
    return (np.clip(img,0,1)*255).astype(np.uint8)

def sheet(V,F,out,yaws=(0,35,90),colors=None,size=420,pitch=0.0):
    ims=[render(V,F,y,size,colors,pitch) for y in yaws]
    Image.fromarray(np.concatenate(ims,1)).save(out)

if __name__=='__main__':
    V,T,F,G,names=load_obj(sys.argv[1])
    sheet(V,F,sys.argv[2])


def read_png16(path):
    """A 16-bit RGB PNG as (h, w, 3) uint16 (PIL reads these as 8-bit)."""
    import struct, zlib
    b = open(path, "rb").read(); i = 8; idat = b""
    while i < len(b):
        n, t = struct.unpack(">I4s", b[i:i + 8]); d = b[i + 8:i + 8 + n]; i += 12 + n
        if t == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", d[:10])
            assert depth == 16 and ctype == 2, "16-bit RGB expected"
        elif t == b"IDAT":
            idat += d
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * 6)
    out = np.zeros((h, w * 6), np.int32); bpp = 6
    for y in range(h):
        f, row = raw[y, 0], raw[y, 1:].astype(np.int32)
        prev = out[y - 1] if y else np.zeros(w * 6, np.int32)
        if f in (0, 1, 2):
            if f == 1:
                row = np.cumsum(row.reshape(w, 6), axis=0).ravel()
            out[y] = (row + (prev if f == 2 else 0)) % 256
            continue
        cur = np.zeros(w * 6, np.int32)
        for x in range(w * 6):
            a = cur[x - bpp] if x >= bpp else 0; up = prev[x]; c = prev[x - bpp] if x >= bpp else 0
            if f == 0: p = 0
            elif f == 1: p = a
            elif f == 2: p = up
            elif f == 3: p = (a + up) // 2
            else:
                pa, pb, pc = abs(up - c), abs(a - c), abs(a + up - 2 * c)
                p = a if pa <= pb and pa <= pc else (up if pb <= pc else c)
            cur[x] = (row[x] + p) % 256
        out[y] = cur
    return out.astype(np.uint8).reshape(h, w, 3, 2)[..., 0].astype(np.uint16) * 256 + out.astype(np.uint8).reshape(h, w, 3, 2)[..., 1]


def load_geometry_image(folder):
    """The head from simulator/data/face/ as (positions, triangles, zone per triangle, zone names)."""
    import tomllib
    from pathlib import Path
    folder = Path(folder)
    meta = tomllib.loads((folder / "face.toml").read_text())
    g = read_png16(folder / meta["geometry"])
    lo = np.array(meta["min_mm"]); hi = np.array(meta["max_mm"])
    P = (g[::-1].astype(float) / 65535) * (hi - lo) + lo
    z = np.array(Image.open(folder / meta["zone_map"]))[::-1]
    nr, nc = z.shape
    idx = np.arange((nr + 1) * (nc + 1)).reshape(nr + 1, nc + 1)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]
    F = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)])
    Z = np.concatenate([z.ravel(), z.ravel()])
    V = P.reshape(-1, 3)
    area = np.linalg.norm(np.cross(V[F[:, 1]] - V[F[:, 0]], V[F[:, 2]] - V[F[:, 0]]), axis=1)
    keep = area > 1e-9
    return V, F[keep], Z[keep], meta["zones"]


PALETTE = [(0.95, 0.80, 0.55), (0.75, 0.85, 0.55), (0.55, 0.75, 0.95), (0.30, 0.35, 0.90),
           (0.95, 0.60, 0.60), (0.95, 0.78, 0.68), (0.85, 0.55, 0.85), (0.85, 0.25, 0.35),
           (0.60, 0.90, 0.85), (0.95, 0.95, 0.50), (0.70, 0.70, 0.70), (0.80, 0.65, 0.50),
           (0.45, 0.40, 0.35)]
