"""Camera and ground geometry of the synthetic LTD scene: where a point of the promenade appears in the frame.

A pinhole camera ``CAM_H`` metres above a flat promenade looks along the ground axis Z (metres away from the
camera); X is metres to the right of the optical axis. A point (X, Z, height h) projects to column
``X_V + X * F_PX / Z`` and row ``Y_V + (CAM_H - h) * F_PX / Z``, so objects are larger and move faster lower in
the image. Water lies left of the quay edge (X < X_QUAY), an arcaded building stands on the right
(X = X_FACADE) and one closes the far end (Z = Z_FAR); a foreground mast hides the columns ``POLE_X``.
"""
from __future__ import annotations

W, H = 384, 288                    # LTD frame size (columns, rows)

F_PX = 400.0                       # focal length (px)
CAM_H = 8.0                        # camera height: a 1.6-1.9 m person is 14 px tall far away, <= 60 px at the bottom
X_V, Y_V = 40.0, 35.0              # vanishing point (column, row) of the promenade
X_QUAY = 3.0                       # quay edge: water for X < X_QUAY
X_FACADE = 15.0                    # arcade front of the building on the right
FAR_ROW = 105.0                    # ground row of the far building: objects enter/leave through its arcade there
Z_FAR = F_PX * CAM_H / (FAR_ROW - Y_V)
Z_NEAR = F_PX * CAM_H / (H + 12 - Y_V)   # just below the bottom edge: objects leave under the camera
POLE_X = (184, 195)                # foreground mast columns [x0, x1): objects behind it are occluded


def ppm(Z):
    """Pixels per metre at depth Z."""
    return F_PX / Z


def depth_of_row(y):
    """Depth Z of the ground point seen at image row ``y`` (below the horizon)."""
    return CAM_H * F_PX / (y - Y_V)


def project(X, Z, h=0.0):
    """(column, row) of ground point (X, Z) raised by h metres."""
    p = F_PX / Z
    return X_V + X * p, Y_V + (CAM_H - h) * p


def right_edge_X(Z):
    """Ground X seen at the right frame edge at depth Z."""
    return (W - X_V) * Z / F_PX
